/** `rescreen subject <id>` and `rescreen changes <batch>`: what a re-screen is for (README: After a re-screen). */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  batchChangeRows,
  ChangeTally,
  csvColumns,
  csvRow,
  DEFAULT_MIN_DELTA,
  describeChangeCounts,
  getRing,
  isWorse,
  keepBatchChangeCounts,
  subjectCases,
  subjectHistory,
  subjectRings,
  vendorMovedWarning,
  type Change,
  type ChangeCounts,
  type Runtime,
} from '../../app/index.js';
import type { CheckName } from '../../checks/registry.js';
import { withRuntime } from '../context.js';
import { writeRows, type RowFormat } from '../output.js';
import { checkName } from '../args.js';


function unitInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

/** Columns of `changes --format csv`. */
export const CHANGE_COLUMNS = [
  'line',
  'subject',
  'check',
  'change',
  'kind',
  'previousVerdict',
  'previousScore',
  'previousSource',
  'previousBatch',
  'previousAt',
  'previousTransactionId',
  'verdict',
  'score',
  'scoreDelta',
  'transactionId',
] as const;

function changeCsv(c: Change): Record<string, unknown> {
  return {
    line: c.line,
    subject: c.subject,
    check: c.check,
    change: c.label,
    kind: c.kind,
    previousVerdict: c.baseline?.verdict ?? null,
    previousScore: c.baseline?.score ?? null,
    previousSource: c.baseline?.source ?? null,
    previousBatch: c.baseline?.batch ?? null,
    previousAt: c.baseline?.at ?? null,
    previousTransactionId: c.baseline?.transactionId ?? null,
    verdict: c.verdict,
    score: c.score,
    scoreDelta: c.scoreDelta,
    transactionId: c.transactionId,
  };
}

/** Adds `subject` and `changes`. */
export function registerHistoryCommands(program: Command): void {
  program
    .command('subject')
    .description("every record of a subject across batches, oldest first (batch, check, verdict, score, transaction id), with the subject's review cases and decisions and the fraud rings it is in")
    .argument('<id>', 'the subject (customer id) of the manifest lines')
    .option('--check <check>', 'only records of this check', checkName)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'))
    .action(async (subject: string, opts: { check?: CheckName; format: 'table' | 'jsonl' | 'csv' }) => {
      await withRuntime(async (runtime) => {
        const records = await subjectHistory(runtime, subject, opts.check !== undefined ? { check: opts.check } : {});
        const rings = await subjectRings(runtime, subject);
        if (opts.format !== 'table') {
          const fields = runtime.checks.recordFields;
          // jsonl: each record names the subject's rings (`rings`: ids); csv keeps the records' columns.
          const rows = opts.format === 'jsonl' ? records.map((r) => ({ ...r, rings })) : records;
          await writeRows(fromArray(rows), { format: opts.format, columns: csvColumns(fields), csv: (r) => csvRow(r, fields) });
          return;
        }
        const cases = await subjectCases(runtime, subject);
        // Beside each screening: the case its batch opened for this subject, with where it stands.
        const caseOf = new Map(cases.flatMap(({ case: c }) => c.lines.map((l) => [`${c.batch}\u0000${l.line}`, c] as const)));
        const widths = [20, 24, 14, 9, 9, 6, 38, 0];
        writeLine(['finished', 'batch', 'check', 'status', 'verdict', 'score', 'transaction id', 'case'], widths);
        for (const r of records) {
          const c = caseOf.get(`${r.batch}\u0000${r.line}`);
          const cell = c === undefined ? '' : `${c.id} ${c.state === 'decided' ? (c.decision ?? '') : c.state}`;
          writeLine([r.finishedAt.slice(0, 19), r.batch, r.check ?? '', r.status, r.verdict ?? '', fmt(r.score), r.transactionId ?? '', cell], widths);
        }
        for (const line of caseLines(cases)) process.stdout.write(`${line}\n`);
        for (const line of await ringLines(runtime, rings)) process.stdout.write(`${line}\n`);
      });
    });

  program
    .command('changes')
    .description("this batch's verdict and score next to each subject's previous screening, classified (worse, better, score drop, unchanged, new)")
    .argument('<batch>', 'batch id')
    .option('--against <batch>', "compare with this batch's record of the same subject and check")
    .addOption(new Option('--baseline <which>', 'previous: each subject\'s latest earlier screening (default)').choices(['previous']).default('previous'))
    .addOption(new Option('--only <which>', 'only worse verdicts and score drops').choices(['worse']))
    .option('--min-delta <x>', `a score lower by at least this counts as a score drop (0–1, default ${DEFAULT_MIN_DELTA}; 0: off)`, unitInterval)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'))
    .option('--output <file>', 'write to this file, atomically, instead of stdout (jsonl or csv)')
    .action(
      async (
        batch: string,
        opts: { against?: string; only?: 'worse'; minDelta?: number; format: 'table' | 'jsonl' | 'csv'; output?: string },
      ) => {
        await withRuntime(async (runtime) => {
          const all = await batchChangeRows(runtime, batch, {
            ...(opts.against !== undefined ? { against: opts.against } : {}),
            ...(opts.minDelta !== undefined ? { minDelta: opts.minDelta } : {}),
          });
          // Before any row: whether the vendor moved too (the canaries, or a PSI shift).
          const warning = await vendorMovedWarning(runtime, batch);
          if (warning !== null) (opts.format === 'table' && opts.output === undefined ? process.stdout : process.stderr).write(`${warning}\n`);
          const tally = new ChangeTally();
          // The default comparison over every line is what `status` shows: keep it for big batches.
          const keep = opts.against === undefined && (opts.minDelta === undefined || opts.minDelta === DEFAULT_MIN_DELTA);
          const shown = (async function* () {
            for await (const change of all) {
              tally.add(change);
              if (opts.only !== 'worse' || isWorse(change)) yield change;
            }
          })();
          if (opts.format === 'table' && opts.output === undefined) {
            const widths = [6, 24, 14, 26, 26, 0];
            writeLine(['line', 'subject', 'check', 'previous', 'now', 'change'], widths);
            for await (const c of shown) {
              const was = c.baseline === null ? '—' : `${c.baseline.verdict} ${fmt(c.baseline.score)}${c.baseline.source === 'manifest' ? ' (manifest)' : ''}`;
              writeLine([String(c.line), c.subject ?? '', c.check, was, `${c.verdict ?? '—'} ${fmt(c.score)}`, c.label], widths);
            }
            process.stdout.write(`${describeChangeCounts(tally.counts())}\n`);
            for (const line of sharedMediaLines(tally.counts())) process.stdout.write(`${line}\n`);
            if (keep) await keepBatchChangeCounts(runtime, batch, tally.counts());
            return;
          }
          const format: RowFormat<Change> = { format: opts.format === 'csv' ? 'csv' : 'jsonl', columns: CHANGE_COLUMNS, csv: changeCsv };
          const written = await writeRows(shown, format, opts.output);
          if (keep) await keepBatchChangeCounts(runtime, batch, tally.counts());
          process.stderr.write(`${describeChangeCounts(tally.counts())}${opts.output !== undefined ? ` (${written} rows written to ${opts.output})` : ''}\n`);
          for (const line of sharedMediaLines(tally.counts())) process.stderr.write(`${line}\n`);
        });
      },
    );
}



async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

/** `shared media 3f9c0a1e22b4… used by 7 subjects: cust-1, cust-9, …`, one line per file listed. */
function sharedMediaLines(counts: ChangeCounts): string[] {
  return counts.sharedMedia.list.map((m) => {
    const more = m.subjectCount > m.subjects.length ? `, … (${m.subjectCount - m.subjects.length} more)` : '';
    return `shared media ${m.sha256.slice(0, 12)}… used by ${m.subjectCount} subjects: ${m.subjects.join(', ')}${more}`;
  });
}

/** The subject's cases, each with its reasons, changes and every decision (append-only: the last one stands). */
function caseLines(cases: Awaited<ReturnType<typeof subjectCases>>): string[] {
  if (cases.length === 0) return ['no review case'];
  const out = [`${cases.length} review case${cases.length === 1 ? '' : 's'}:`];
  for (const { case: c, decisions } of cases) {
    out.push(`case ${c.id}  batch ${c.batch}  ${c.reasons.join(', ')}  ${c.lines.map((l) => l.label).join('; ')}  opened ${c.openedAt.slice(0, 19)}  ${c.state}`);
    for (const d of decisions) out.push(`  decision #${d.seq}  ${d.at.slice(0, 19)}  ${d.decision} by ${d.reviewer}${d.note !== '' ? `: ${d.note}` : ''}`);
  }
  return out;
}

/** `ring r…: 4 subjects (A, B, C, D), links sha256, phash; rescreen rings show r…`, or `in no fraud ring`. */
async function ringLines(runtime: Runtime, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return ['in no fraud ring'];
  const out: string[] = [];
  for (const id of ids) {
    const ring = await getRing(runtime, id);
    const who = ring.subjects.slice(0, 8).join(', ') + (ring.subjects.length > 8 ? ', …' : '');
    out.push(`ring ${ring.id}: ${ring.subjects.length} subjects (${who}), links ${[...new Set(ring.links.map((l) => l.kind))].join(', ')}; rescreen rings show ${ring.id}`);
  }
  return out;
}

function writeLine(cells: readonly string[], widths: readonly number[]): void {
  process.stdout.write(`${cells.map((c, i) => (widths[i] ? c.padEnd(widths[i]) : c)).join('  ').trimEnd()}\n`);
}

function fmt(score: number | null | undefined): string {
  return score === null || score === undefined ? '' : score.toFixed(2);
}
