import type { JobPayload } from '../src/checks/types.js';
import { RescreenError, ErrorCodes } from '../src/errors/errors.js';

/** The single media reference of a photo/video check (validated at enqueue; re-checked for safety). */
export function singleRef(payload: JobPayload): string {
  if (payload.ref === undefined) throw new RescreenError(ErrorCodes.INVALID_LINE, `${payload.check} needs "ref"`);
  return payload.ref;
}

/** The frame references of a frames check. */
export function frameRefs(payload: JobPayload): readonly string[] {
  if (payload.frames === undefined || payload.frames.length === 0) {
    throw new RescreenError(ErrorCodes.INVALID_LINE, `${payload.check} needs "frames"`);
  }
  return payload.frames;
}
