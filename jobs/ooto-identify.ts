/**
 * `ooto-identify`: one JPEG/PNG → POST /api/v1.0/identify (1:N search).
 * Verdict `match` when `similarity ≥ IDENTIFY_MATCH_THRESHOLD`, else `no-match`; score = similarity;
 * the matched `templateId` is kept. `check_liveness` / `check_deepfake` are sent only when asked.
 */
import { z } from 'zod';
import { defineCheck } from '../src/checks/registry.js';
import { MediaRef } from '../src/checks/schemas.js';
import type { IdentifyOptions, OotoClient } from '../src/vendors/types.js';
import { ootoVendor } from '../src/vendors/ooto/vendor.js';
import { singleRef } from './media-ref.js';

/** Options of `ooto-identify` (its own: the generic contract only carries them); the query flags are sent only when true. */
export const IdentifyOptionsSchema: z.ZodType<IdentifyOptions> = z
  .object({ checkLiveness: z.boolean().optional(), checkDeepfake: z.boolean().optional() })
  .strict();

export const ootoIdentify = defineCheck<OotoClient>({
  name: 'ooto-identify',
  vendor: ootoVendor.name,
  input: 'photo',
  verdicts: ['match', 'no-match'],
  description: 'OOTO 1:N identification of one photo',
  payload: z.object({ ref: MediaRef, options: IdentifyOptionsSchema.optional() }).strict(),
  recordFields: ['templateId'],
  processor: async (payload, deps, signal) => {
    const photo = await deps.media.loadPhoto(singleRef(payload), payload.baseDir, signal);
    // Validated at enqueue by the payload schema; read again here as this check's own type.
    const options = IdentifyOptionsSchema.parse(payload.options ?? {});
    const answer = await deps.client.identify(photo, options, signal ? { signal } : {});
    const { similarity, templateId } = answer.result;
    return {
      verdict: similarity >= deps.identifyMatchThreshold ? 'match' : 'no-match',
      score: similarity,
      fields: { templateId },
      transactionId: answer.transactionId,
      response: answer.body,
    };
  },
});
