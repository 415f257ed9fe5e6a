/**
 * `rescreen` — the command line (DESIGN.md section 4). Human output on stdout, diagnostics and logs on
 * stderr; problems end as one line and a non-zero exit (see ExitCode), never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { CHECK_NAMES, isCheckName, VENDORS, type CheckName, type Vendor } from '../checks/registry.js';
import { CliError, ExitCode } from './cli-error.js';
import { cliConfig, withRuntime } from './context.js';
import { demo } from './commands/demo.js';
import { enqueue, printEnqueueSummary } from './commands/enqueue.js';
import { result, results, status } from './commands/inspect.js';
import { runBatch } from './commands/run.js';
import { simulator } from './commands/simulator.js';
import { work } from './commands/work.js';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

function checkName(value: string): CheckName {
  if (!isCheckName(value)) throw new InvalidArgumentError(`must be one of ${CHECK_NAMES.join(', ')}`);
  return value;
}

function vendorList(value: string): Vendor[] {
  const vendors = value.split(',').map((v) => v.trim());
  for (const v of vendors) {
    if (!(VENDORS as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be ${VENDORS.join(' or ')} (comma-separated)`);
  }
  return vendors as Vendor[];
}

let exitCode: number = ExitCode.OK;

const program = new Command()
  .name('rescreen')
  .description('Re-screen onboarding media against face-biometrics vendors, through BullMQ queues on Redis.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('enqueue')
  .description('stream a manifest (JSONL or CSV) into the queues; prints the batch id and counts')
  .argument('<manifest>', 'path of a .jsonl or .csv manifest')
  .option('--batch <id>', 'batch id (default: the manifest name plus a hash of its content)')
  .option('--check <check>', `check for lines that name none (${CHECK_NAMES.join(', ')})`, checkName)
  .option('--dry-run', 'validate and count only; enqueue and write nothing')
  .action(async (manifest: string, opts: { batch?: string; check?: CheckName; dryRun?: boolean }) => {
    await withRuntime(async (runtime) => {
      const summary = await enqueue(runtime, { manifest, ...opts });
      printEnqueueSummary(summary, opts.dryRun ?? false);
    });
  });

program
  .command('work')
  .description('run the workers (one per vendor queue) until SIGINT/SIGTERM')
  .option('--until-idle', 'exit once no job is waiting, delayed or active (non-zero if a vendor refused our credentials)')
  .option('--concurrency <n>', 'concurrent jobs per vendor queue (default RESCREEN_CONCURRENCY or 16)', positiveInt)
  .option('--vendor <list>', `only these vendor queues (${VENDORS.join(',')})`, vendorList)
  .action(async (opts: { untilIdle?: boolean; concurrency?: number; vendor?: Vendor[] }) => {
    exitCode = await withRuntime((runtime) =>
      work(runtime, {
        untilIdle: opts.untilIdle ?? false,
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.vendor !== undefined ? { vendors: opts.vendor } : {}),
      }),
    );
  });

program
  .command('run')
  .description('enqueue a manifest, work until that batch is finished, print its summary')
  .argument('<manifest>', 'path of a .jsonl or .csv manifest')
  .option('--batch <id>', 'batch id (default: the manifest name plus a hash of its content)')
  .option('--check <check>', 'check for lines that name none', checkName)
  .option('--concurrency <n>', 'concurrent jobs per vendor queue', positiveInt)
  .action(async (manifest: string, opts: { batch?: string; check?: CheckName; concurrency?: number }) => {
    exitCode = await withRuntime(async (runtime) => (await runBatch(runtime, { manifest, ...opts })).exitCode);
  });

program
  .command('status')
  .description('counts of a batch by state and by verdict')
  .argument('<batch>', 'batch id')
  .action(async (batch: string) => {
    await withRuntime((runtime) => status(runtime, batch));
  });

program
  .command('results')
  .description("stream a batch's records to stdout, in manifest line order")
  .argument('<batch>', 'batch id')
  .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
  .action(async (batch: string, opts: { format: 'jsonl' | 'csv' }) => {
    await withRuntime(async (runtime) => {
      await results(runtime, batch, opts.format);
    });
  });

program
  .command('result')
  .description('print the record with this vendor transaction id, as JSON')
  .argument('<transactionId>', "the vendor's transaction id (OOTO transactionId, GLAIR Request-Id)")
  .action(async (transactionId: string) => {
    await withRuntime((runtime) => result(runtime, transactionId));
  });

program
  .command('simulator')
  .description('serve the contract-faithful OOTO + GLAIR simulator on 127.0.0.1')
  .option('--port <n>', 'port (default 4010)', positiveInt, 4010)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--latency <ms>', 'added latency per call, ms', (v) => Number(v), 0)
  .option('--failure-rate <x>', 'share of calls that fail with 5xx/reset (0–1)', (v) => Number(v), 0)
  .option('--ooto-rate-limit <limit>', 'answer 429 above this rate, e.g. 10/s')
  .option('--glair-rate-limit <limit>', 'answer 429 above this rate, e.g. 5/s')
  .action(async (opts: { port: number; host: string; latency: number; failureRate: number; ootoRateLimit?: string; glairRateLimit?: string }) => {
    exitCode = await simulator(opts);
  });

program
  .command('demo')
  .description('the simulator + a worker + a sample batch + its results, on a fresh machine')
  .action(async () => {
    exitCode = await demo();
  });

async function main(): Promise<void> {
  try {
    // Parse the environment first so a bad variable stops every command with its name.
    cliConfig();
    await program.parseAsync(process.argv);
  } catch (error) {
    exitCode = reportError(error);
  }
  process.exitCode = exitCode;
  // Everything is closed by now; if a stray handle (a socket in TIME_WAIT, a timer in a library)
  // would keep the process alive, do not hang: leave shortly after.
  setTimeout(() => process.exit(exitCode), 3_000).unref();
}

function reportError(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`rescreen: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('commander.')) {
    // commander already printed its message (or help/version, which exit 0).
    const code = (error as { exitCode?: number }).exitCode ?? ExitCode.USAGE;
    return code === 0 ? ExitCode.OK : ExitCode.USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`rescreen: ${message}\n`);
  return ExitCode.FAILED;
}

await main();
