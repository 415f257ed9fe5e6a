import { formatRateLimit } from '../../config/rate-limit.js';
import { formatMoney, type DryRunCosts, type DryRunEstimate, type EnqueueSummary } from '../../app/index.js';
import { RATE_LIMIT_VARS } from '../args.js';
import { table } from '../format.js';

export type { EnqueueArgs } from '../../app/batches.js';

/** At most this many invalid lines are named on stderr; the rest are counted (all have records). */
const MAX_INVALID_SHOWN = 200;

export function printEnqueueSummary(summary: EnqueueSummary & { costs?: DryRunCosts }, dryRun: boolean): void {
  for (const { line, reason } of summary.invalidLines.slice(0, MAX_INVALID_SHOWN)) {
    process.stderr.write(`line ${line}: ${reason}\n`);
  }
  if (summary.invalid > MAX_INVALID_SHOWN) {
    process.stderr.write(`… and ${summary.invalid - MAX_INVALID_SHOWN} more invalid lines (rescreen results ${summary.batch} lists them all)\n`);
  }
  const checks = Object.entries(summary.byCheck)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  // A dry run does not look at the queues: valid lines without a record, queued or not, would be enqueued.
  const wouldEnqueue = summary.estimate
    ? Object.values(summary.estimate.checks).reduce((n, c) => n + c.lines, 0)
    : sum(summary.byCheck);
  const verb = dryRun ? 'would enqueue' : 'enqueued';
  process.stdout.write(
    `batch ${summary.batch}\n` +
      `${summary.lines} lines: ${verb} ${dryRun ? wouldEnqueue : summary.enqueued}` +
      `, already recorded ${summary.alreadyRecorded}, already queued ${summary.alreadyQueued}, invalid ${summary.invalid}` +
      (checks ? ` (${checks})` : '') +
      ` in ${(summary.durationMs / 1000).toFixed(1)}s\n`,
  );
  if (summary.canary) {
    const { lines, from, to } = summary.canary;
    process.stdout.write(`canary set: ${lines} lines (lines ${from}–${to}), ${dryRun ? 'counted in the lines and paid calls above and below' : 'queued first'}\n`);
  }
  if (summary.skipped) process.stdout.write(formatSkipped(summary.skipped));
  if (summary.estimate) process.stdout.write(formatEstimate(summary.estimate, summary.costs));
}

/** `distinct media: 285 (of 19842 paid calls); --dedupe would make 285 paid calls, saving 19557 (USD 391.14)`. */
function formatDistinct(estimate: DryRunEstimate, costs: DryRunCosts | undefined): string {
  const saved = estimate.paidCalls - estimate.distinctPaidCalls;
  const money =
    costs && costs.total !== null && costs.dedupeTotal !== null && saved > 0 ? ` (${formatMoney(costs.total - costs.dedupeTotal, costs.currency)})` : '';
  return (
    `distinct media: ${estimate.distinctPaidCalls} (of ${estimate.paidCalls} paid calls)` +
    (saved > 0 ? `; --dedupe would make ${estimate.distinctPaidCalls} paid calls, saving ${saved}${money}` : '; --dedupe would save nothing')
  );
}

/** `near-duplicate groups: 10 (20 distinct pictures …)` and the largest groups, one line each. */
function formatNear(estimate: DryRunEstimate): string[] {
  const n = estimate.nearDuplicates;
  const unhashed = n.notHashed > 0 ? `; ${n.notHashed} not hashed (undecodable, or no video decoder)` : '';
  if (n.groups === 0) return [`near-duplicate groups: none among ${n.hashed} distinct local pictures${unhashed}`];
  return [
    `near-duplicate groups: ${n.groups} (${n.pictures} distinct pictures of ${n.hashed}; re-encoded, resized, cropped or brightened copies: --dedupe pays for each)${unhashed}`,
    ...n.list.map((g) => `  ${g.pictures} pictures, ${g.lines} lines: ${g.refs.join(', ')}${g.pictures > g.refs.length ? ', …' : ''}`),
    ...(n.groups > n.list.length ? [`  … and ${n.groups - n.list.length} more groups`] : []),
  ];
}

/** `cost: USD 12.40 (ooto USD 8.40, glair USD 4.00)`, or what price is missing. */
function formatCosts(costs: DryRunCosts): string {
  const per = Object.entries(costs.perVendor)
    .map(([v, c]) => `${v} ${c === null ? `unknown (set ${costs.priceVars[v] ?? 'its price'})` : formatMoney(c, costs.currency)}`)
    .join(', ');
  return `cost: ${costs.total === null ? 'unknown' : formatMoney(costs.total, costs.currency)} (${per})`;
}

/** The folder entries that made no line, one sentence per reason (nothing when none). */
export function formatSkipped(skipped: NonNullable<EnqueueSummary['skipped']>): string {
  const out: string[] = [];
  const files = (n: number) => (n === 1 ? '1 file that is' : `${n} files that are`);
  const { 'not-media': notMedia, 'not-for-check': notForCheck, 'folder-walked': walked } = skipped;
  if (notMedia > 0) out.push(`skipped ${files(notMedia)} not JPEG/PNG/mp4`);
  if (notForCheck > 0) out.push(`skipped ${files(notForCheck)} media of a type --check does not take`);
  if (walked > 0) out.push(`skipped ${walked} ${walked === 1 ? 'link' : 'links'} to a folder already walked (a loop or a repeat)`);
  return out.map((l) => `${l}\n`).join('');
}

/** The dry run's estimate: a table per check, a table per vendor, and why no call would be paid for the rest. */
export function formatEstimate(estimate: DryRunEstimate, costs?: DryRunCosts): string {
  const checkRows = Object.values(estimate.checks)
    .filter((c) => c.lines > 0)
    .map((c) => [
      c.check,
      c.vendor,
      String(c.lines),
      String(c.paidCalls),
      String(c.remote),
      String(sum(c.rejected)),
      String(sum(c.failed)),
    ]);
  const vendorRows = Object.values(estimate.vendors).map((v) => [
    v.vendor,
    String(v.paidCalls),
    v.rateLimit === undefined ? 'no limit set' : formatRateLimit(v.rateLimit),
    v.paidCalls === 0 ? '-' : v.seconds === undefined ? 'unknown (no limit set)' : formatDuration(v.seconds),
  ]);
  const counts = (record: Readonly<Record<string, number>>) =>
    Object.entries(record)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
  const lines = [
    '',
    'dry run: nothing was enqueued or written. Before paying:',
    '',
    checkRows.length > 0
      ? table(['check', 'vendor', 'lines', 'paid calls', 'remote', 'rejected locally', 'failed locally'], checkRows)
      : 'no line would be enqueued',
    '',
    table(['vendor', 'paid calls', 'rate limit', 'time at the limit'], vendorRows),
    '',
    `paid calls: ${estimate.paidCalls}` +
      (estimate.seconds === undefined
        ? ` (time unknown: a vendor with calls has no rate limit set, ${RATE_LIMIT_VARS})`
        : `, about ${formatDuration(estimate.seconds)} at the rate limits`),
    ...(costs ? [formatCosts(costs)] : []),
    formatDistinct(estimate, costs),
    ...formatNear(estimate),
    `rejected locally, no paid call: ${counts(estimate.rejected)}`,
    `would end failed, no paid call: ${counts(estimate.failed)}, INVALID_LINE ${estimate.invalid}`,
    `already recorded, skipped: ${estimate.alreadyRecorded}`,
    `remote http(s) refs: ${estimate.remote}` +
      (estimate.remote > 0 ? ' (not fetched: counted as paid calls; the worker checks them when it downloads them)' : ''),
  ];
  return `${lines.join('\n')}\n`;
}

/** `0.4 s`, `12 min 5 s`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

function sum(record: Readonly<Record<string, number>>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
