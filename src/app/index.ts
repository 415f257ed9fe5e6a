/**
 * The application layer: everything the CLI does, as functions returning plain data. The HTTP API
 * and the programmatic API build on the same functions; only the composition root (src/runtime)
 * wires the parts below.
 */
export * from './batches.js';
export * from './csv.js';
export * from './history.js';
export * from './drift.js';
export * from './fail-on.js';
export * from './audit.js';
export * from './budget.js';
export * from './enqueue-options.js';
export * from './control.js';
export * from './retry.js';
export * from './guard.js';
export * from './held.js';
export { packageVersion } from './version.js';
export * from './limits.js';
export * from './schedules.js';
export * from './workers.js';
export { defaultBatchId } from './batch-id.js';
export { describeFsError, describeWriteError } from './fs-words.js';
export { openRuntime, type Runtime } from '../runtime/runtime.js';
export { StoreUnavailableError } from '../runtime/store.js';
export { BUILT_INS, buildRegistries, loadConfig, type Registries } from '../runtime/built-ins.js';
export type { Vendor } from '../vendors/types.js';
export type { VendorQuotaReport } from '../quota/report.js';
export { locateRedis, RedisUnavailableError, type LocatedRedis } from '../redis/locate.js';
export { RedisLostError, RedisWatchdog } from '../redis/watchdog.js';
export type { AttemptRow, BatchSummary, EraseCounts, PurgeCounts } from '../store/types.js';
export type { EnqueueSummary } from '../queueing/producer.js';
export type { DryRunEstimate } from '../money/estimate.js';
export { DEFAULT_PRIORITY } from '../queueing/names.js';
export * from './operations.js';
export * from './queue-views.js';
export * from './store-ops.js';
export * from './review.js';
export * from './rings.js';
export * from './media.js';
