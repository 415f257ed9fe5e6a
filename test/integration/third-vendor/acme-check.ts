/** `acme-liveness`: one JPEG/PNG → ACME's liveness endpoint; a check module as jobs/*.ts are. */
import { defineCheck } from '../../../src/checks/registry.js';
import { SingleRefPayload } from '../../../src/checks/schemas.js';
import { acmeVendor, type AcmeClient } from './acme-vendor.js';

export const acmeLiveness = defineCheck<AcmeClient>({
  name: 'acme-liveness',
  vendor: acmeVendor.name,
  input: 'photo',
  description: 'ACME liveness check of one photo (test only)',
  payload: SingleRefPayload,
  processor: async (payload, deps, signal) => {
    if (payload.ref === undefined) throw new Error('acme-liveness needs ref');
    const photo = await deps.media.loadPhoto(payload.ref, payload.baseDir, signal);
    const answer = await deps.client.liveness(photo, signal ? { signal } : {});
    return {
      verdict: answer.result.live ? 'genuine' : 'deepfake',
      score: answer.result.score,
      transactionId: answer.transactionId,
      response: answer.body,
    };
  },
});
