/**
 * `ooto-deepfake`: one JPEG/PNG → POST /api/v1.0/deepfake.
 * Verdict `genuine` when `result.deepfake.fine`, else `deepfake`; score = `result.deepfake.score`
 * (higher = more genuine).
 */
import { defineCheck } from '../src/checks/registry.js';
import { SingleRefPayload } from '../src/checks/schemas.js';
import type { OotoClient } from '../src/vendors/types.js';
import { ootoVendor } from '../src/vendors/ooto/vendor.js';
import { singleRef } from './media-ref.js';

export const ootoDeepfake = defineCheck<OotoClient>({
  name: 'ooto-deepfake',
  vendor: ootoVendor.name,
  input: 'photo',
  description: 'OOTO deepfake check of one photo',
  payload: SingleRefPayload,
  processor: async (payload, deps, signal) => {
    const photo = await deps.media.loadPhoto(singleRef(payload), payload.baseDir, signal);
    const answer = await deps.client.deepfake(photo, signal ? { signal } : {});
    return {
      verdict: answer.result.fine ? 'genuine' : 'deepfake',
      score: answer.result.score,
      transactionId: answer.transactionId,
      response: answer.body,
    };
  },
});
