/** `rescreen batch raise`: control of one batch while it runs (README: Costs and budgets). */
import type { Command } from 'commander';
import { cancelBatch, describeBudget, pauseBatch, raiseBudget, resumeBatch } from '../../app/index.js';
import { withRuntime } from '../context.js';
import { addEnqueueOptions } from '../args.js';


export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('control one batch while it runs: pause, resume, cancel, raise its budget');
  batch
    .command('pause')
    .description('hold the batch: its lines wait (no attempt spent) while other batches run')
    .argument('<batch>', 'batch id')
    .action(async (id: string) => {
      await withRuntime(async (runtime) => {
        await pauseBatch(runtime, id);
        process.stdout.write(`batch ${id}: paused; its lines wait (rescreen batch resume ${id})\n`);
      });
    });
  batch
    .command('resume')
    .description('let a paused batch go on')
    .argument('<batch>', 'batch id')
    .action(async (id: string) => {
      await withRuntime(async (runtime) => {
        const result = await resumeBatch(runtime, id);
        process.stdout.write(`batch ${id}: running again (${result.jobs} held ${result.jobs === 1 ? 'job' : 'jobs'} back in the queue)\n`);
      });
    });
  batch
    .command('cancel')
    .description('end the lines not yet sent as failed (CANCELLED); answered lines keep their records; rescreen retry sends the rest later')
    .argument('<batch>', 'batch id')
    .action(async (id: string) => {
      await withRuntime(async (runtime) => {
        const result = await cancelBatch(runtime, id);
        process.stdout.write(
          `batch ${id}: cancelled; ${result.jobs} queued ${result.jobs === 1 ? 'line' : 'lines'} ended CANCELLED (lines in a worker's hands end so before their vendor call)\n`,
        );
      });
    });
  addEnqueueOptions(
    batch
      .command('raise')
      .description('new --max-calls / --max-spend caps for a batch; its waiting lines go on within RESCREEN_HELD_RECHECK_MS')
      .argument('<batch>', 'batch id'),
    ['maxCalls', 'maxSpend'],
    { maxCalls: 'most paid vendor calls the batch may make in all', maxSpend: 'most the batch may spend in all, e.g. 40.00' },
  ).action(async (id: string, opts: { maxCalls?: number; maxSpend?: string }) => {
      await withRuntime(async (runtime) => {
        const budget = await raiseBudget(runtime, id, opts);
        process.stdout.write(`batch ${id}: ${describeBudget(budget)}\n`);
      });
    });
}
