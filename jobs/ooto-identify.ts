/**
 * `ooto-identify`: one JPEG/PNG → POST /api/v1.0/identify (1:N search).
 * Verdict `match` when `similarity ≥ IDENTIFY_MATCH_THRESHOLD`, else `no-match`; score = similarity;
 * the matched `templateId` is kept. `check_liveness` / `check_deepfake` are sent only when asked.
 */
import type { Processor } from '../src/checks/processor.js';
import { singleRef } from './media-ref.js';

export const processOotoIdentify: Processor = async (payload, deps, signal) => {
  const photo = await deps.media.loadPhoto(singleRef(payload), payload.baseDir, signal);
  const answer = await deps.ooto.identify(photo, payload.options ?? {}, signal ? { signal } : {});
  const { similarity, templateId } = answer.result;
  return {
    verdict: similarity >= deps.identifyMatchThreshold ? 'match' : 'no-match',
    score: similarity,
    templateId,
    transactionId: answer.transactionId,
    response: answer.body,
  };
};
