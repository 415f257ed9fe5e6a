/** `rescreen batch raise`: control of one batch while it runs (README: Costs and budgets). */
import type { Command } from 'commander';
import { describeBudget, raiseBudget } from '../../app/index.js';
import { withRuntime } from '../context.js';
import { wholeNumber } from '../arguments.js';


export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('control one batch: raise its budget');
  batch
    .command('raise')
    .description("new --max-calls / --max-spend caps for a batch; its waiting lines go on within RESCREEN_HELD_RECHECK_MS")
    .argument('<batch>', 'batch id')
    .option('--max-calls <n>', 'most paid vendor calls the batch may make in all', wholeNumber)
    .option('--max-spend <amount>', 'most the batch may spend in all, e.g. 40.00')
    .action(async (id: string, opts: { maxCalls?: number; maxSpend?: string }) => {
      await withRuntime(async (runtime) => {
        const budget = await raiseBudget(runtime, id, opts);
        process.stdout.write(`batch ${id}: ${describeBudget(budget, id)}\n`);
      });
    });
}
