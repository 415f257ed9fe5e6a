/** `glair-frames`: JPEG/PNG frames (≤ 6 MB in total) → POST /face/v1/deepfake/images, JSON `{"frames": [base64…]}`. */
import type { Processor } from '../src/checks/processor.js';
import { glairOutcome } from './glair-verdict.js';
import { frameRefs } from './media-ref.js';

export const processGlairFrames: Processor = async (payload, deps, signal) => {
  const frames = await deps.media.loadFrames(frameRefs(payload), payload.baseDir, signal);
  return glairOutcome(await deps.glair.frames(frames, signal ? { signal } : {}));
};
