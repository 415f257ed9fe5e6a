/** `rescreen retry`: second chances for a batch's failed lines, all or filtered (README: Operating batches). */
import type { Command } from 'commander';
import { formatMoney, retryBatch, type RetrySummary } from '../../app/index.js';
import { VENDOR_NAMES } from '../args.js';
import { withRuntime } from '../context.js';

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `VENDOR_TIMEOUT 3, VENDOR_CONNECTION 2`: most first. */
function counts(byKey: Readonly<Record<string, number>>): string {
  return Object.entries(byKey)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/** What a retry did (or, dry run, would do), and what it costs; one sentence a line. */
export function formatRetry(s: RetrySummary): string {
  const verb = s.dryRun ? 'would re-enqueue' : 're-enqueued';
  const which = s.lines > 0 ? ` (${counts(s.byCode)}; ${counts(s.byVendor)})` : '';
  const out = [
    `batch ${s.batch}: ${verb} ${plural(s.lines, 'failed line', 'failed lines')}${which}` +
      (s.notMatched > 0 ? `; ${plural(s.notMatched, 'other failed line', 'other failed lines')} left out by the filter` : '') +
      (s.invalid > 0 ? `; ${plural(s.invalid, 'invalid manifest line cannot', 'invalid manifest lines cannot')} be retried (fix the manifest, enqueue it again)` : '') +
      `; ${plural(s.rejected, 'rejected line', 'rejected lines')} left alone (final answers about the media)`,
  ];
  if (s.lines > 0) {
    const { cost } = s;
    const money = (m: number | null) => (m === null ? 'unknown' : formatMoney(m, cost.currency));
    const unpriced = Object.entries(cost.perVendor)
      .filter(([, c]) => c === null)
      .map(([v]) => cost.priceVars[v] ?? v);
    out.push(
      `paid calls: ${cost.calls} (one a line) to ${cost.maxCalls} (RESCREEN_MAX_CALLS_PER_LINE=${cost.maxCallsPerLine} a line); ` +
        `cost ${money(cost.total)} to ${money(cost.maxTotal)} at the batch's prices` +
        (unpriced.length > 0 ? ` (no price for ${unpriced.join(', ')})` : ''),
    );
  }
  if (s.state === 'paused' && s.lines > 0) out.push(`batch ${s.batch} is paused: its lines wait (rescreen batch resume ${s.batch})`);
  if (!s.dryRun && s.requeued > 0) out.push('then: rescreen work (or a running worker takes them)');
  return `${out.join('\n')}\n`;
}

function codeList(value: string): string[] {
  return value.split(',').map((c) => c.trim()).filter((c) => c !== '');
}

export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('re-enqueue the lines of a batch whose record is failed (never rejected ones), all or those the filters pick; then run `rescreen work`')
    .argument('<batch>', 'batch id')
    .option('--code <codes>', 'only lines whose error code is one of these, comma-separated (e.g. VENDOR_TIMEOUT,HTTP_503)', codeList)
    .option('--vendor <vendor>', `only lines of this vendor's checks (${VENDOR_NAMES.join(', ')})`)
    .option('--check <check>', 'only lines of this check')
    .option('--since <time>', 'only lines that failed at or after this time: ISO 8601, or a duration back from now (30m, 2h, 7d)')
    .option('--dry-run', 'count the lines and what they would cost; enqueue and change nothing')
    .action(async (batch: string, opts: { code?: string[]; vendor?: string; check?: string; since?: string; dryRun?: boolean }) => {
      await withRuntime(async (runtime) => {
        const { code, ...rest } = opts;
        const summary = await retryBatch(runtime, batch, { ...rest, codes: code });
        process.stdout.write(formatRetry(summary));
      });
    });
}
