/**
 * `rescreen schedule add | list | remove | run`: scheduled re-screens on BullMQ job schedulers
 * (src/schedules/). Firings are processed by `rescreen work`; `schedule run` fires in this process.
 */
import { type Command, Option } from 'commander';
import {
  addSchedule as addScheduleData,
  describeRule,
  fireScheduleNow,
  isFinished,
  listSchedules as listScheduleData,
  OVERLAP_POLICIES,
  removeSchedule as removeScheduleData,
  type FiringOutcome,
  type Runtime,
  type ScheduleEntry,
  type ScheduleInput,
  REVIEW_HELP,
} from '../../app/index.js';
import { CHECK_LIST, checkName } from '../args.js';
import { CliError } from '../cli-error.js';
import { withRuntime } from '../context.js';
import { table } from '../format.js';

/** Invalid manifest lines named on stderr by `schedule run`; the rest are counted (all have records). */
const MAX_INVALID_SHOWN = 20;

/** Adds the `schedule` command and its subcommands to the program. */
export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('scheduled re-screens: a manifest re-run on a timer, processed by `rescreen work`');

  schedule
    .command('add')
    .description('add (or replace) a schedule; adding the same name again updates it')
    .argument('<name>', 'schedule name: 1-64 of A-Z a-z 0-9 . _ - (batches are named <name>-<scheduled time>)')
    .requiredOption('--manifest <path>', 'manifest (file or folder) read at every firing; stored as an absolute path')
    .option('--check <check>', `check for lines that name none (${CHECK_LIST})`, checkName)
    .option('--every <duration>', 'fire every <n>(s|m|h|d), e.g. 24h; the first firing is right away')
    .option('--cron <expression>', 'fire on a cron expression, e.g. "0 2 * * *" (5 fields, or 6 with seconds first)')
    .option('--tz <zone>', 'IANA time zone of --cron, e.g. Europe/Paris (default UTC)')
    .option('--review <rules>', REVIEW_HELP)
    .option('--canary <file>', 'a canary set (manifest lines plus expect) screened first in each of its batches; read at every firing')
    .option('--canary-threshold <x>', 'how far the canary scores\' mean may move before the canary alert (default 0.1)', (v) => Number(v))
    .addOption(
      new Option('--overlap <policy>', 'when the previous batch is still running: skip this firing, or allow it')
        .choices(OVERLAP_POLICIES)
        .default('skip'),
    )
    .action(async (name: string, opts: Omit<ScheduleInput, 'name'>) => {
      await withRuntime((runtime) => addSchedule(runtime, { name, ...opts }));
    });

  schedule
    .command('list')
    .description('schedules with their rule, next run, last batch and its counts')
    .action(async () => {
      await withRuntime((runtime) => listSchedules(runtime));
    });

  schedule
    .command('remove')
    .description('remove a schedule and its pending firing (its batches and records stay)')
    .argument('<name>', 'schedule name')
    .action(async (name: string) => {
      await withRuntime((runtime) => removeSchedule(runtime, name));
    });

  schedule
    .command('run')
    .description('fire a schedule now (batch <name>-<now>); running workers process it')
    .argument('<name>', 'schedule name')
    .option('--force', 'fire even if the previous batch of the schedule is still running')
    .action(async (name: string, opts: { force?: boolean }) => {
      await withRuntime((runtime) => runSchedule(runtime, name, opts.force ?? false));
    });
}

/** `schedule add`: validates, upserts the scheduler, prints what it will do. */
export async function addSchedule(runtime: Runtime, input: ScheduleInput): Promise<void> {
  const { definition, existed, next } = await addScheduleData(runtime, input);
  process.stdout.write(
    `schedule ${definition.name} ${existed ? 'updated' : 'added'}: ${describeRule(definition.rule)}, manifest ${definition.manifest}` +
      `${definition.check !== null ? `, check ${definition.check}` : ''}, overlap ${definition.overlap}\n` +
      `next run ${next?.toISOString() ?? '-'}\n`,
  );
}

/** `schedule list`: one row per schedule, soonest next run first; then any failed last firing. */
export async function listSchedules(runtime: Runtime): Promise<void> {
  const views = await listScheduleData(runtime);
  if (views.length === 0) {
    process.stdout.write('no schedules (add one with: rescreen schedule add <name> --manifest <path> --every 24h)\n');
    return;
  }
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const { entry, state, lastSummary: summary } of views) {
    rows.push([
      entry.name,
      ruleText(entry),
      entry.definition?.check ?? '-',
      entry.next?.toISOString() ?? '-',
      state.lastBatch ?? '-',
      summary ? `${summary.recorded}/${summary.producerDone ? summary.total : '?'}${isFinished(summary) ? '' : ' running'}` : '-',
      summary ? String(summary.byStatus.completed) : '-',
      summary ? String(summary.byStatus.rejected) : '-',
      summary ? String(summary.byStatus.failed) : '-',
      state.lastSkip?.scheduledAt ?? '-',
      entry.definition?.manifest ?? '-',
    ]);
    if (state.lastError !== null) notes.push(`${entry.name}: firing of ${state.lastError.batch} failed at ${state.lastError.at}: ${state.lastError.message}`);
    if (entry.problem !== null) notes.push(`${entry.name}: stored definition unreadable (${entry.problem}); add it again`);
  }
  const headers = ['name', 'rule', 'check', 'next run', 'last batch', 'recorded', 'completed', 'rejected', 'failed', 'last skipped', 'manifest'];
  process.stdout.write(`${table(headers, rows)}\n${notes.map((n) => `${n}\n`).join('')}`);
}

function ruleText(entry: ScheduleEntry): string {
  if (entry.definition === null) return '(unreadable)';
  const { definition } = entry;
  return `${describeRule(definition.rule)}${definition.overlap === 'allow' ? ', overlap allowed' : ''}`;
}

/** `schedule remove`: the scheduler, its pending firing and its state go; its batches stay. */
export async function removeSchedule(runtime: Runtime, name: string): Promise<void> {
  await removeScheduleData(runtime, name);
  process.stdout.write(`schedule ${name} removed (its batches stay: rescreen batches)\n`);
}

/**
 * `schedule run`: fires the schedule now in this process (batch `<name>-<now>`), with its overlap
 * rule unless `force`. Workers (`rescreen work`) then process the batch.
 */
export async function runSchedule(runtime: Runtime, name: string, force: boolean, now: Date = new Date()): Promise<FiringOutcome> {
  const outcome = await fireScheduleNow(runtime, name, force, now);
  if (outcome.kind === 'skipped') {
    const { skip } = outcome;
    throw new CliError(
      `schedule ${name}: skipped, previous batch ${skip.previous} is still running (${skip.recorded}/${skip.total ?? '?'} recorded); --force fires anyway`,
    );
  }
  const e = outcome.enqueued;
  for (const { line, reason } of e.invalidLines.slice(0, MAX_INVALID_SHOWN)) process.stderr.write(`line ${line}: ${reason}\n`);
  if (e.invalid > MAX_INVALID_SHOWN) process.stderr.write(`… and ${e.invalid - MAX_INVALID_SHOWN} more invalid lines\n`);
  process.stdout.write(
    `schedule ${name} fired: batch ${outcome.batch}\n` +
      `${e.lines} lines: enqueued ${e.enqueued}, already recorded ${e.alreadyRecorded}, already queued ${e.alreadyQueued}, invalid ${e.invalid}\n` +
      `workers (rescreen work) process it; rescreen status ${outcome.batch} shows its progress\n`,
  );
  return outcome;
}
