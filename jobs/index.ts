/**
 * The checks, in the order `--help`, the dry-run table and the README list them. A new check is a
 * module beside these (see ooto-deepfake.ts) and a line here; the registry (src/checks/registry.ts)
 * refuses one without a processor at start-up.
 */
import type { AnyCheckModule } from '../src/checks/registry.js';
import { glairFrames } from './glair-frames.js';
import { glairVideo } from './glair-video.js';
import { ootoDeepfake } from './ooto-deepfake.js';
import { ootoIdentify } from './ooto-identify.js';

export const CHECK_MODULES: readonly AnyCheckModule[] = [ootoDeepfake, ootoIdentify, glairVideo, glairFrames];
