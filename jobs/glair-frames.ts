/** `glair-frames`: JPEG/PNG frames (≤ 6 MB in total) → POST /face/v1/deepfake/images, JSON `{"frames": [base64…]}`. */
import { defineCheck } from '../src/checks/registry.js';
import { FramesPayload } from '../src/checks/schemas.js';
import type { GlairClient } from '../src/vendors/types.js';
import { glairVendor } from '../src/vendors/glair/vendor.js';
import { glairOutcome } from './glair-verdict.js';
import { frameRefs } from './media-ref.js';

export const glairFrames = defineCheck<GlairClient>({
  name: 'glair-frames',
  vendor: glairVendor.name,
  input: 'frames',
  description: 'GLAIR deepfake check of a list of frames',
  payload: FramesPayload,
  processor: async (payload, deps, signal) => {
    const frames = await deps.media.loadFrames(frameRefs(payload), payload.baseDir, signal);
    return glairOutcome(await deps.client.frames(frames, signal ? { signal } : {}));
  },
});
