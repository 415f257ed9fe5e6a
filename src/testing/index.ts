/**
 * `rescreen/testing`: for your own tests of code that uses rescreen — the vendor simulator with
 * scripted outcomes and a call log, sample media with documented outcomes, a per-test Redis prefix
 * with cleanup, and plain record helpers. Importing it starts nothing, opens nothing and reads no
 * file: every server, connection and folder comes from a call you make.
 */
export {
  startSimulator,
  sha256Of,
  type FailureKind,
  type Outcome,
  type OutcomeRule,
  type SimCall,
  type SimRateLimit,
  type SimulatorStats,
  type TestRateLimit,
  type TestSimulator,
  type TestSimulatorOptions,
} from './simulator.js';
export { photo, video, frames, type PhotoOptions, type SampleMediaOptions, type SampleOutcome } from './media.js';
export { createTestEnv, FAST_TUNING, TEST_PREFIX_START, type TestEnv, type TestEnvOptions } from './env.js';
export {
  assertOneRecordPerLine,
  countOutcomes,
  outcomeOf,
  outcomesByLine,
  outcomesOf,
  recordMatchers,
  type MatcherResult,
} from './records.js';
export type { ResultRecord, RecordStatus, Verdict } from '../checks/types.js';
export type { BatchSummary } from '../app/index.js';
export { startS3Server, S3RVER_ACCESS_KEY, type S3Fault, type S3Read, type TestS3Server, type TestS3ServerOptions } from './s3.js';
