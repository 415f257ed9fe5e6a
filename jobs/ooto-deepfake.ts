/**
 * `ooto-deepfake`: one JPEG/PNG → POST /api/v1.0/deepfake.
 * Verdict `genuine` when `result.deepfake.fine`, else `deepfake`; score = `result.deepfake.score`
 * (higher = more genuine).
 */
import type { Processor } from '../src/checks/processor.js';
import { singleRef } from './media-ref.js';

export const processOotoDeepfake: Processor = async (payload, deps, signal) => {
  const photo = await deps.media.loadPhoto(singleRef(payload), payload.baseDir, signal);
  const answer = await deps.ooto.deepfake(photo, signal ? { signal } : {});
  return {
    verdict: answer.result.fine ? 'genuine' : 'deepfake',
    score: answer.result.score,
    transactionId: answer.transactionId,
    response: answer.body,
  };
};
