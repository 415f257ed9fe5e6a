/** `glair-video`: one mp4 (≤ 6 MB) → POST /face/v1/deepfake, multipart field `video`. */
import { defineCheck } from '../src/checks/registry.js';
import { SingleRefPayload } from '../src/checks/schemas.js';
import type { GlairClient } from '../src/vendors/types.js';
import { glairVendor } from '../src/vendors/glair/vendor.js';
import { glairOutcome } from './glair-verdict.js';
import { singleRef } from './media-ref.js';

export const glairVideo = defineCheck<GlairClient>({
  name: 'glair-video',
  vendor: glairVendor.name,
  input: 'video',
  description: 'GLAIR deepfake check of one mp4 video',
  payload: SingleRefPayload,
  processor: async (payload, deps, signal) => {
    const video = await deps.media.loadVideo(singleRef(payload), payload.baseDir, signal);
    return glairOutcome(await deps.client.video(video, signal ? { signal } : {}));
  },
});
