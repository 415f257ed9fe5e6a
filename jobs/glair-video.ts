/** `glair-video`: one mp4 (≤ 6 MB) → POST /face/v1/deepfake, multipart field `video`. */
import type { Processor } from '../src/checks/processor.js';
import { glairOutcome } from './glair-verdict.js';
import { singleRef } from './media-ref.js';

export const processGlairVideo: Processor = async (payload, deps, signal) => {
  const video = await deps.media.loadVideo(singleRef(payload), payload.baseDir, signal);
  return glairOutcome(await deps.glair.video(video, signal ? { signal } : {}));
};
