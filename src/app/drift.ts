/** Score drift of a finished batch (README: Drift and canaries). */
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { driftReport, type DriftReport } from '../drift/report.js';
import type { Runtime } from '../runtime/runtime.js';
import { isBatchFinished } from '../store/types.js';
import { batchSummary } from './batches.js';
import { finishedBatchDrift } from '../drift/kept.js';
import { describeDrift } from '../drift/report.js';

export { PSI_RULE, MIN_DRIFT_SCORES, PSI_MODERATE, PSI_SHIFT } from '../drift/stats.js';
export type { Comparison, DriftReading } from '../drift/stats.js';
export { describeCanary, describeDrift } from '../drift/report.js';
export type { CanaryReport, CanaryRow } from '../drift/canary-report.js';
export type { CheckDrift, DriftReport, DriftSummary } from '../drift/report.js';

/**
 * The batch's drift against each check's previous finished batch, or against `against`.
 * @throws NotFoundError when a batch does not exist; InvalidInputError when one has not finished.
 */
export async function batchDrift(runtime: Runtime, batch: string, options: { against?: string } = {}): Promise<DriftReport> {
  for (const b of [batch, ...(options.against !== undefined ? [options.against] : [])]) {
    const summary = await batchSummary(runtime, b);
    if (!isBatchFinished(summary)) throw new InvalidInputError(`batch ${b} has not finished: drift compares finished batches`);
  }
  if (options.against === batch) throw new InvalidInputError('--against names the batch itself: name an earlier batch');
  const report = await driftReport(runtime.store, batch, options);
  if (report === null) throw new NotFoundError(`batch ${batch} not found`);
  return report;
}

/** The words `changes` heads its output with when the vendor moved too. */
export const VENDOR_MOVED_WARNING = "the vendor's scores moved too: some of these changes may be the vendor's";

/**
 * The warning `changes` heads its output with when the finished batch's drift alert fired (the
 * canaries moved, or a check's PSI reads "shift"), with the drift summary; null otherwise.
 */
export async function vendorMovedWarning(runtime: Runtime, batch: string): Promise<string | null> {
  const summary = await batchSummary(runtime, batch);
  if (!isBatchFinished(summary)) return null;
  const drift = await finishedBatchDrift(runtime.redis, runtime.config.prefix, runtime.store, summary);
  return drift?.alert === true ? `warning: ${VENDOR_MOVED_WARNING} (${describeDrift(drift)})` : null;
}
