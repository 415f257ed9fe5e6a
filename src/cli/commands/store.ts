/** `rescreen db migrate`, `forget`, `purge` and `store copy`: the result store itself. */
import type { Command } from 'commander';
import { copyStore, erasureTombstones, forgetSubject, migrateStore, parseBefore, purgeBatches } from '../../app/index.js';
import { positiveInt } from '../args.js';
import { cliConfig, withRuntime } from '../context.js';

const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

export function registerStoreCommands(program: Command): void {
  program
    .command('db')
    .description('the PostgreSQL result store (RESCREEN_STORE_URL)')
    .command('migrate')
    .description('apply the store\'s schema migrations (workers also do at start); safe to run from many hosts at once')
    .action(async () => {
      const result = await migrateStore(cliConfig());
      process.stdout.write(
        result.applied.length === 0
          ? `schema ${result.schema} is up to date (version ${result.version})\n`
          : `schema ${result.schema}: applied ${result.applied.join(', ')} (now version ${result.version})\n`,
      );
    });

  program
    .command('forget')
    .description("erase every record, attempt-log row, review case and decision of a subject, in every batch (right to erasure); leaves a tombstone (date and counts only)")
    .requiredOption('--subject <subject>', 'the subject id, as in the manifest')
    .action(async (opts: { subject: string }) => {
      await withRuntime(async (runtime) => {
        const erased = await forgetSubject(runtime, opts.subject);
        process.stdout.write(
          `subject ${JSON.stringify(opts.subject)}: erased ${n(erased.records, 'record', 'records')}, ${n(erased.attempts, 'attempt row', 'attempt rows')}, ` +
            `${n(erased.cases, 'review case', 'review cases')} and ${n(erased.decisions, 'decision', 'decisions')}; tombstone kept (${erased.at}, counts only)\n`,
        );
      });
    });

  program
    .command('erasures')
    .description('the tombstones `forget` left, newest first: when, and how much was erased (never whose)')
    .option('--limit <n>', 'how many (default 100)', positiveInt)
    .option('--json', 'one JSON object a line')
    .action(async (opts: { limit?: number; json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const tombstones = await erasureTombstones(runtime, opts.limit);
        if (opts.json === true) {
          for (const t of tombstones) process.stdout.write(`${JSON.stringify(t)}\n`);
          return;
        }
        if (tombstones.length === 0) process.stdout.write('no erasure yet\n');
        for (const t of tombstones) {
          process.stdout.write(
            `${t.at}  ${n(t.records, 'record', 'records')}, ${n(t.attempts, 'attempt row', 'attempt rows')}, ${n(t.cases, 'case', 'cases')}, ${n(t.decisions, 'decision', 'decisions')}\n`,
          );
        }
      });
    });

  program
    .command('purge')
    .description('drop whole batches (records, attempt log, summary) that finished before a date')
    .requiredOption('--before <date>', 'ISO 8601 date or date-time, e.g. 2024-05-01 (midnight UTC) or 2024-05-01T12:00:00Z')
    .action(async (opts: { before: string }) => {
      const before = parseBefore(opts.before);
      await withRuntime(async (runtime) => {
        const purged = await purgeBatches(runtime, before);
        process.stdout.write(
          `purged ${n(purged.batches, 'batch', 'batches')} finished before ${before.toISOString()}: ${n(purged.records, 'record', 'records')}, ${n(purged.attempts, 'attempt row', 'attempt rows')}\n`,
        );
      });
    });

  program
    .command('store')
    .description('move results between stores')
    .command('copy')
    .description('copy every batch, record and attempt-log row of the Redis store into PostgreSQL (idempotent: run it again to catch up)')
    .requiredOption('--to <url>', 'postgres://…[?schema=name]')
    .action(async (opts: { to: string }) => {
      await withRuntime(async (runtime) => {
        const copied = await copyStore(runtime, opts.to);
        process.stdout.write(
          `copied ${n(copied.batches, 'batch', 'batches')}: ${n(copied.records, 'record', 'records')}, ${n(copied.attempts, 'attempt row', 'attempt rows')} (${n(copied.attemptsSkipped, 'row', 'rows')} already there)\n`,
        );
      });
    });
}
