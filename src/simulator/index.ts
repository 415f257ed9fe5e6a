/**
 * The vendor simulator and its sample media: the public surface for the demo, the CLI, tests and the
 * benchmark.
 */
export { startSimulator, type Simulator } from './server.js';
export {
  SIM_CREDENTIALS,
  FAILURE_KINDS,
  type FailureKind,
  type GlairCredentials,
  type OotoCredentials,
  type ResolvedSettings,
  type SeedTemplate,
  type SimCredentials,
  type SimRateLimit,
  type SimulatorOptions,
  type SimulatorSettings,
} from './options.js';
export { SIM_ENDPOINTS, type SimEndpoint, type SimulatorStats } from './stats.js';
export { samplePng, sampleJpeg, sampleMp4, samplePixels, type ImageSampleOptions, type SampleOptions } from './sample-media.js';
export {
  DIRECTIVE_PREFIX,
  directiveText,
  parseDirectiveText,
  parseDirectives,
  type SimDirective,
  type SimDirectives,
} from './directives.js';
export { OOTO_ENGINE_ERRORS, DEEPFAKE_FINE_THRESHOLD, GLAIR_FAKE_THRESHOLD, type OotoEngineCode } from './outcomes.js';
