/** `rescreen drift <batch> [--against B]`: how the vendor's scores moved (README: Drift and canaries). */
import type { Command } from 'commander';
import { batchDrift, describeCanary, type CanaryReport, type CheckDrift, type Comparison, type DriftReport } from '../../app/index.js';
import { withRuntime } from '../context.js';

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** One row of block characters, one per bin, scaled to the largest share of either histogram. */
export function blockRow(bins: readonly number[], scaleTo: number): string {
  const total = bins.reduce((a, b) => a + b, 0);
  return bins
    .map((n) => {
      const share = total === 0 ? 0 : n / total;
      const level = scaleTo === 0 ? 0 : Math.round((share / scaleTo) * (BLOCKS.length - 1));
      return BLOCKS[share > 0 ? Math.max(1, level) : 0];
    })
    .join('');
}

function maxShare(bins: readonly number[] | null): number {
  if (bins === null) return 0;
  const total = bins.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : Math.max(...bins) / total;
}

function comparisonText(c: Comparison): string {
  if (c.psi === null) return `too few scores (${c.n} now, ${c.previousN} before; at least 30 each)`;
  return `PSI ${c.psi.toFixed(3)} (${c.reading}), KS ${c.ks?.toFixed(3)}, ${c.n} scores now, ${c.previousN} before`;
}

function rates(r: Readonly<Partial<Record<string, number>>> | null): string {
  if (r === null) return '—';
  return Object.entries(r)
    .map(([v, share]) => `${v} ${((share ?? 0) * 100).toFixed(1)}%`)
    .join(', ');
}

/** The report as the terminal shows it. */
export function renderDrift(report: DriftReport): string {
  const out = [`drift of batch ${report.batch} (${report.rule})`];
  for (const c of report.checks) out.push('', ...renderCheck(c));
  if (report.checks.length === 0) out.push('no scored records');
  if (report.canary !== null) out.push('', ...renderCanary(report.canary));
  const psiShift = report.checks.some((c) => c.all.reading === 'shift' || c.both.reading === 'shift');
  const why = [...(psiShift ? ["a check's scores shifted (PSI > 0.25)"] : []), ...(report.canary?.alert === true ? ['the canaries moved'] : [])];
  out.push('', report.alert ? `DRIFT ALERT: ${why.join('; ')}` : 'no drift alert');
  return `${out.join('\n')}\n`;
}

const num = (x: number | null): string => (x === null ? '—' : x.toFixed(3));

/** The canary table: each canary's label, verdict and score against its previous run. */
export function renderCanary(c: CanaryReport): string[] {
  const rows = c.rows.map((r) =>
    [String(r.line), r.check ?? '—', r.subject ?? r.ref ?? '—', r.expect, r.verdict ?? '—', r.agrees ? 'yes' : 'NO', num(r.score), num(r.previous?.score ?? null), r.delta === null ? '—' : `${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(3)}`, r.flipped ? `FLIPPED (was ${r.previous?.verdict})` : ''],
  );
  const head = ['line', 'check', 'canary', 'expect', 'verdict', 'agrees', 'score', 'before', 'delta', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `  ${cells.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd()}`;
  return [`canaries: ${describeCanary(c)}`, line(head), ...rows.map(line)];
}

function renderCheck(c: CheckDrift): string[] {
  const scale = Math.max(maxShare(c.bins), maxShare(c.againstBins));
  return [
    `${c.check}${c.against === null ? ': no earlier finished batch of this check' : ` against ${c.against}`}`,
    `  now     0 |${blockRow(c.bins, scale)}| 1   ${rates(c.verdictRates)}`,
    ...(c.againstBins ? [`  before  0 |${blockRow(c.againstBins, scale)}| 1   ${rates(c.againstVerdictRates)}`] : []),
    `  all subjects:      ${c.against === null ? '—' : comparisonText(c.all)}`,
    `  subjects in both:  ${c.against === null ? '—' : comparisonText(c.both)}`,
  ];
}

export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description("how the vendor's scores moved: each check's histogram, PSI and KS against the previous finished batch of the check")
    .argument('<batch>', 'a finished batch')
    .option('--against <batch>', 'compare with this finished batch instead')
    .option('--json', 'print the report as JSON')
    .action(async (batch: string, opts: { against?: string; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const report = await batchDrift(runtime, batch, opts.against !== undefined ? { against: opts.against } : {});
        process.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderDrift(report));
      });
    });
}
