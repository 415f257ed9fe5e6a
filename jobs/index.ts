/**
 * The processor of every check, keyed by the typed check list: a check without a processor is a
 * compile error here, and `assertEveryCheckHasProcessor` fails the worker's start-up as well (for
 * checks registered at run time by plugins or a mismatched build).
 */
import { CHECK_NAMES, type CheckName } from '../src/checks/registry.js';
import type { Processor } from '../src/checks/processor.js';
import { processGlairFrames } from './glair-frames.js';
import { processGlairVideo } from './glair-video.js';
import { processOotoDeepfake } from './ooto-deepfake.js';
import { processOotoIdentify } from './ooto-identify.js';

export const PROCESSORS: Readonly<Record<CheckName, Processor>> = {
  'ooto-deepfake': processOotoDeepfake,
  'ooto-identify': processOotoIdentify,
  'glair-video': processGlairVideo,
  'glair-frames': processGlairFrames,
};

export function assertEveryCheckHasProcessor(processors: Partial<Record<CheckName, Processor>> = PROCESSORS): void {
  const missing = CHECK_NAMES.filter((name) => typeof processors[name] !== 'function');
  if (missing.length > 0) throw new Error(`no processor for check(s): ${missing.join(', ')}`);
}
