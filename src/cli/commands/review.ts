/**
 * `rescreen review list | next | show | decide | release | export | scan` (README: Reviewing what
 * changed): the review queue, as src/app/review.ts gives it.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  allCases,
  allDecisions,
  CASE_CSV_COLUMNS,
  CASE_REASONS,
  CASE_STATES,
  caseCounts,
  caseCsvValues,
  decideCase,
  DECISION_CSV_COLUMNS,
  decisionCsvValues,
  DECISIONS,
  DEFAULT_LEASE_MS,
  listCases,
  nextCase,
  releaseCase,
  scanBatchCases,
  showCase,
  type Decision,
  type ReviewCase,
} from '../../app/index.js';
import { positiveInt } from '../args.js';
import { withRuntime } from '../context.js';
import { table } from '../format.js';
import { writeRows } from '../output.js';

type Format = 'table' | 'csv' | 'jsonl';

/** `30s`, `15m`, `2h` → ms. */
function duration(value: string): number {
  const m = /^(\d{1,6})(s|m|h)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('must be a duration such as 90s, 15m or 2h');
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

function record<T extends readonly string[]>(columns: T, values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
}

const caseFormat = (format: 'csv' | 'jsonl') => ({ format, columns: CASE_CSV_COLUMNS, csv: (c: ReviewCase) => record(CASE_CSV_COLUMNS, caseCsvValues(c)) });
const decisionFormat = (format: 'csv' | 'jsonl') => ({ format, columns: DECISION_CSV_COLUMNS, csv: (d: Decision) => record(DECISION_CSV_COLUMNS, decisionCsvValues(d)) });

function caseRows(cases: readonly ReviewCase[]): string[][] {
  return cases.map((c) => [
    c.id,
    c.batch,
    c.subject,
    c.reasons.join(','),
    c.state === 'claimed' ? `claimed by ${c.claimedBy ?? ''}` : c.state === 'decided' ? `${c.decision ?? ''} (${c.decidedBy ?? ''})` : 'open',
    c.lines.map((l) => l.label).join('; '),
    c.openedAt.slice(0, 19),
  ]);
}

const CASE_HEADERS = ['case', 'batch', 'subject', 'reasons', 'state', 'changes', 'opened'];

/** The case as `review next` and `review show` print it first. */
function describeCase(c: ReviewCase): string {
  const out = [
    `case ${c.id}  batch ${c.batch}  subject ${c.subject}`,
    `reasons    ${c.reasons.join(', ')}`,
    `state      ${c.state}${c.claimedBy !== null ? ` by ${c.claimedBy} until ${c.leaseUntil ?? ''}` : ''}${c.decision !== null ? ` (${c.decision} by ${c.decidedBy ?? ''} at ${c.decidedAt ?? ''}; ${c.decisions} decision${c.decisions === 1 ? '' : 's'})` : ''}`,
    `opened     ${c.openedAt}`,
  ];
  for (const l of c.lines) {
    const was = l.baseline === null ? 'no baseline' : `${l.baseline.verdict} ${l.baseline.score ?? '?'} (${l.baseline.source === 'manifest' ? 'manifest' : `${l.baseline.batch ?? ''} line ${l.baseline.line ?? ''}`}${l.baseline.at !== null ? `, ${l.baseline.at}` : ''})`;
    out.push(
      `line ${l.line}  ${l.check}  ${l.label}  [${l.reasons.join(', ')}]`,
      `  now      ${l.status}${l.verdict !== null ? ` ${l.verdict}` : ''}${l.score !== null ? ` ${l.score}` : ''}${l.code !== null ? ` code ${l.code}` : ''}  tx ${l.transactionId ?? '-'}`,
      `  before   ${was}`,
      `  media    ${l.mediaSha256 ?? '-'}${l.sharedWith !== undefined ? `  also under ${l.sharedWith.join(', ')}` : ''}`,
    );
  }
  return out.join('\n');
}

export function registerReviewCommands(program: Command): void {
  const review = program.command('review').description('review cases: what changed, decided by a named reviewer (README: Reviewing what changed)');

  review
    .command('list')
    .description('cases, oldest opened first, with the counts per state')
    .option('--batch <batch>', "only this batch's cases")
    .addOption(new Option('--state <state>', 'only cases in this state (a lapsed claim is open)').choices(CASE_STATES))
    .addOption(new Option('--reason <reason>', 'only cases opened for this reason').choices(CASE_REASONS))
    .option('--subject <id>', "only this subject's cases")
    .option('--limit <n>', 'cases per page (1-1000; default 50)', positiveInt)
    .option('--after <cursor>', 'the page after this cursor (printed under a full page)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'jsonl']).default('table'))
    .action(async (opts: { batch?: string; state?: string; reason?: string; subject?: string; limit?: number; after?: string; format: Format }) => {
      await withRuntime(async (runtime) => {
        const page = await listCases(runtime, opts);
        if (opts.format !== 'table') {
          await writeRows(
            (async function* () {
              yield* await Promise.resolve(page.cases);
            })(),
            caseFormat(opts.format),
          );
          return;
        }
        const counts = await caseCounts(runtime, opts.batch);
        process.stdout.write(table(CASE_HEADERS, caseRows(page.cases)));
        process.stdout.write(`${counts.open} open, ${counts.claimed} claimed, ${counts.decided} decided${opts.batch !== undefined ? ` in ${opts.batch}` : ''}\n`);
        if (page.next !== null) process.stdout.write(`more: rescreen review list --after ${page.next}\n`);
      });
    });

  review
    .command('next')
    .description('claim the oldest open case for a lease (15 min unless --lease), so no one else works it, and print it')
    .requiredOption('--reviewer <name>', 'who claims it (recorded with the decision)')
    .option('--lease <duration>', `how long the claim holds, e.g. 15m (default ${DEFAULT_LEASE_MS / 60_000}m; an expired claim returns to the queue)`, duration)
    .option('--batch <batch>', "only this batch's cases")
    .option('--json', 'print the case as JSON')
    .action(async (opts: { reviewer: string; lease?: number; batch?: string; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const c = await nextCase(runtime, { reviewer: opts.reviewer, ...(opts.lease !== undefined ? { leaseMs: opts.lease } : {}), ...(opts.batch !== undefined ? { batch: opts.batch } : {}) });
        if (c === null) {
          if (opts.json === true) process.stdout.write('null\n');
          else process.stdout.write('no open case\n');
          return;
        }
        process.stdout.write(opts.json === true ? `${JSON.stringify(c)}\n` : `${describeCase(c)}\n`);
      });
    });

  review
    .command('show')
    .description("a case's evidence: this record, the baseline record, media digests, the attempt log, the reasons, the decisions")
    .argument('<case>', 'case id')
    .option('--json', 'print it as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const evidence = await showCase(runtime, id);
        if (opts.json === true) {
          process.stdout.write(`${JSON.stringify(evidence)}\n`);
          return;
        }
        const out = [describeCase(evidence.case)];
        for (const l of evidence.lines) {
          const media = (l.record?.media ?? []).map((m) => `${m.sha256} ${m.type} ${m.bytes} B`).join(', ');
          out.push(`line ${l.line} record: ${l.record === null ? 'erased' : `${l.record.status} ${l.record.verdict ?? ''} ${l.record.score ?? ''} at ${l.record.finishedAt}${media !== '' ? `; media ${media}` : ''}`}`);
          if (l.baseline !== null) out.push(`line ${l.line} baseline: ${l.baseline.batch} line ${l.baseline.line} ${l.baseline.status} ${l.baseline.verdict ?? ''} ${l.baseline.score ?? ''} at ${l.baseline.finishedAt}`);
          for (const a of l.attempts) out.push(`  attempt ${a.attempt}  ${a.at}  HTTP ${a.httpStatus}${a.code !== null ? ` code ${a.code}` : ''}  ${a.durationMs} ms  tx ${a.transactionId ?? '-'}  ${a.worker}`);
        }
        out.push(evidence.decisions.length === 0 ? 'no decision yet' : 'decisions:');
        for (const d of evidence.decisions) out.push(`  #${d.seq} ${d.at} ${d.decision} by ${d.reviewer}${d.note !== '' ? `: ${d.note}` : ''}`);
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });

  review
    .command('decide')
    .description('decide a case (append-only: a later decision supersedes, the earlier stays)')
    .argument('<case>', 'case id')
    .requiredOption('--as <decision>', DECISIONS.join(' | '))
    .option('--note <text>', 'why (required for confirmed-fraud and escalate)')
    .requiredOption('--reviewer <name>', 'who decides (recorded with the decision)')
    .action(async (id: string, opts: { as: string; note?: string; reviewer: string }) => {
      await withRuntime(async (runtime) => {
        const { decision } = await decideCase(runtime, id, { decision: opts.as, note: opts.note, reviewer: opts.reviewer });
        process.stdout.write(`case ${id}: ${decision.decision} by ${decision.reviewer} (decision #${decision.seq})\n`);
      });
    });

  review
    .command('release')
    .description('give a case you claimed back to the queue')
    .argument('<case>', 'case id')
    .requiredOption('--reviewer <name>', 'who holds the claim')
    .action(async (id: string, opts: { reviewer: string }) => {
      await withRuntime(async (runtime) => {
        await releaseCase(runtime, id, opts.reviewer);
        process.stdout.write(`case ${id} is open again\n`);
      });
    });

  review
    .command('export')
    .description('every case, or every decision, as CSV or JSONL')
    .option('--batch <batch>', "only this batch's cases")
    .option('--decisions', 'the decisions instead of the cases')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('jsonl'))
    .option('--output <file>', 'write to this file, atomically, instead of stdout')
    .action(async (opts: { batch?: string; decisions?: boolean; format: 'csv' | 'jsonl'; output?: string }) => {
      await withRuntime(async (runtime) => {
        if (opts.decisions === true) await writeRows(allDecisions(runtime, opts.batch), decisionFormat(opts.format), opts.output);
        else await writeRows(allCases(runtime, opts.batch !== undefined ? { batch: opts.batch } : {}), caseFormat(opts.format), opts.output);
      });
    });

  review
    .command('scan')
    .description("look for a batch's cases now (as its finish does), with its own --review rules or these")
    .argument('<batch>', 'batch id')
    .option('--review <rules>', 'rules for this scan (default: the batch\'s own)')
    .action(async (batch: string, opts: { review?: string }) => {
      await withRuntime(async (runtime) => {
        const { rules, found, opened } = await scanBatchCases(runtime, batch, opts.review);
        process.stdout.write(`${batch}: ${found} subject${found === 1 ? '' : 's'} to review under ${rules}; ${opened.length} case${opened.length === 1 ? '' : 's'} opened now\n`);
      });
    });
}
