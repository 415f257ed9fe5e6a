/**
 * `import { createRescreen } from 'rescreen'`: the programmatic API (see ./rescreen.ts) and the types
 * of what it returns. Importing this module starts nothing and connects nowhere.
 */
export {
  createRescreen,
  type EnqueueOptions,
  type ManifestInput,
  type Rescreen,
  type RescreenOptions,
  type RunResult,
  type WaitOptions,
  type WorkOptions,
  type Workers,
} from './rescreen.js';
export type { ManifestLine } from './lines.js';
export { ConfigError, type Config } from '../config/config.js';
export { loadConfig, BUILT_INS } from '../app/index.js';
export type { CheckName } from '../checks/registry.js';
export type { Vendor } from '../app/index.js';
export { RECORD_STATUSES, STOPPED_BY, VERDICTS, type RecordError, type RecordStatus, type ResultRecord, type StoppedBy, type Verdict } from '../checks/types.js';
export { ErrorCodes, InvalidInputError, NotFoundError, RescreenError, VendorError, WaitTimeoutError, type ErrorCode } from '../errors/errors.js';
export { RedisUnavailableError, type BatchStatus, type BatchSummary, type DryRunEstimate, type EnqueueSummary, type RetryArgs, type RetrySummary, type VendorQuotaReport } from '../app/index.js';
