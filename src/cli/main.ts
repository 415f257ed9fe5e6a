/**
 * `rescreen` — the command line (README: Using it). Human output on stdout, diagnostics and logs on
 * stderr; problems end as one line and a non-zero exit (see ExitCode), never a stack trace.
 */
import { Command, Option } from 'commander';
import type { EnqueueOptions, Vendor } from '../app/index.js';
import { addEnqueueOptions, ENQUEUE_OPTION_NAMES, positiveInt, RATE_LIMIT_VARS, VENDOR_CHOICE, VENDOR_NAMES, vendorList } from './args.js';
import type { RecordStatus } from '../checks/types.js';
import { CliError, ExitCode } from './cli-error.js';
import { cliConfig, withRuntime } from './context.js';
import { demo } from './commands/demo.js';
import { printEnqueueSummary } from './commands/enqueue.js';
import { batches, parseStatus, result, results, resultsFormat, status } from './commands/inspect.js';
import { enqueueBatch, packageVersion, parseFailOn, RedisUnavailableError, StoreUnavailableError } from '../app/index.js';
import { DEFAULT_CONCURRENCY } from '../config/defaults.js';
import { failOnExit } from './commands/fail-on.js';
import { registerReviewCommands } from './commands/review.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/errors.js';
import { createProgressView } from './progress.js';
import { runBatch } from './commands/run.js';
import { registerScheduleCommands } from './commands/schedule.js';
import { registerHistoryCommands } from './commands/history.js';
import { registerDriftCommand } from './commands/drift.js';
import { registerRingsCommand } from './commands/rings.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBatchCommands } from './commands/batch.js';
import { registerRetryCommand } from './commands/retry.js';
import { registerStoreCommands } from './commands/store.js';
import { limitsReset, limitsSet, limitsShow } from './commands/limits.js';
import { simulator, type SimulatorArgs } from './commands/simulator.js';
import { work } from './commands/work.js';
import { registerServeCommands } from './commands/serve.js';

const MANIFEST_HELP = 'path of a .jsonl or .csv manifest, a folder of media (one line per JPEG/PNG/mp4 file), or a bucket prefix s3://bucket/prefix/ (one line per object)';

/** `--concurrency` of `work` and `run`: the same setting as RESCREEN_CONCURRENCY, whose default is `auto`. */
const CONCURRENCY_HELP = `concurrent jobs per vendor queue (default RESCREEN_CONCURRENCY, else auto: sized from the quota and the latency, ${DEFAULT_CONCURRENCY} to start)`;

/** `rescreen run`'s options as commander parses them: the enqueue options but `--dry-run`, and its own. */
type RunOptions = Omit<EnqueueOptions, 'dryRun'> & { concurrency?: number; failOn?: string };

/**
 * The `rescreen` program: every command, parsing its arguments and rendering what the application
 * layer (src/app) returns. `exitCode()` is the code the last command asked for.
 */
export function buildProgram(): { program: Command; exitCode: () => number } {
  let exitCode: number = ExitCode.OK;
  const program = new Command()
    .name('rescreen')
    .description('Re-screen onboarding media against face-biometrics vendors, through BullMQ queues on Redis.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  addEnqueueOptions(
    program
      .command('enqueue')
      .description('stream a manifest (JSONL or CSV) into the queues; prints the batch id and counts')
      .argument('<manifest>', MANIFEST_HELP),
    ENQUEUE_OPTION_NAMES,
  ).action(async (manifest: string, opts: EnqueueOptions) => {
    await withRuntime(async (runtime) => {
      const summary = await enqueueBatch(runtime, { manifest, ...opts });
      printEnqueueSummary(summary, opts.dryRun ?? false);
    });
  });

  program
    .command('work')
    .description('run the workers (one per vendor queue) until SIGINT/SIGTERM')
    .option('--until-idle', 'exit once no job is waiting, delayed or active (non-zero if a vendor refused our credentials)')
    .option('--concurrency <n>', CONCURRENCY_HELP, positiveInt)
    .option('--vendor <list>', `only these vendor queues (${VENDOR_NAMES.join(',')})`, vendorList)
    .option('--metrics-port <n>', 'serve /metrics, /healthz, /readyz on 127.0.0.1:<n>', positiveInt)
    .option('--metrics-host <host>', 'address of the --metrics-port server', '127.0.0.1')
    .action(async (opts: { untilIdle?: boolean; concurrency?: number; vendor?: Vendor[]; metricsPort?: number; metricsHost: string }) => {
      exitCode = await withRuntime(
        (runtime) =>
          work(runtime, {
            untilIdle: opts.untilIdle ?? false,
            ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
            ...(opts.vendor !== undefined ? { vendors: opts.vendor } : {}),
            ...(opts.metricsPort !== undefined ? { metrics: { port: opts.metricsPort, host: opts.metricsHost } } : {}),
          }),
        undefined,
        { survivesRedisRestarts: true },
      );
    });

  addEnqueueOptions(
    program.command('run').description('enqueue a manifest, work until that batch is finished, print its summary').argument('<manifest>', MANIFEST_HELP),
    ENQUEUE_OPTION_NAMES.filter((name) => name !== 'dryRun'),
  )
    .option('--concurrency <n>', CONCURRENCY_HELP, positiveInt)
    .option('--fail-on <rules>', 'exit 4 when the finished batch crosses one of these, e.g. failed>0, failed>1%, rejected>=10, changes>0, worse>0')
    .action(async (manifest: string, opts: RunOptions) => {
      const { failOn, ...rest } = opts;
      const rules = failOn === undefined ? undefined : parseFailOn(failOn);
      exitCode = await withRuntime(
        async (runtime) => {
          const ran = await runBatch(runtime, { manifest, ...rest, progress: createProgressView({ tty: process.stderr.isTTY }) });
          return rules === undefined || ran.exitCode !== ExitCode.OK ? ran.exitCode : failOnExit(runtime, ran.summary, rules);
        },
        undefined,
        { survivesRedisRestarts: true },
      );
    });

  program
    .command('status')
    .description('counts of a batch by state and by verdict')
    .argument('<batch>', 'batch id')
    .option('--watch', 'follow the batch until it is finished (a live bar on a terminal, a plain line every few seconds otherwise)')
    .option('--fail-on <rules>', 'exit 4 when the batch is finished and crosses one of these (as run --fail-on)')
    .action(async (batch: string, opts: { watch?: boolean; failOn?: string }) => {
      const rules = opts.failOn === undefined ? undefined : parseFailOn(opts.failOn);
      exitCode = await withRuntime(async (runtime) => {
        const code = await status(runtime, batch, { watch: opts.watch ?? false });
        return rules === undefined || code !== ExitCode.OK ? code : failOnExit(runtime, await runtime.store.summary(batch), rules);
      });
    });

  program
    .command('batches')
    .description('batches, newest first, with their counts')
    .option('--limit <n>', 'how many', positiveInt, 50)
    .action(async (opts: { limit: number }) => {
      await withRuntime((runtime) => batches(runtime, opts.limit));
    });

  program
    .command('results')
    .description("stream a batch's records to stdout, in manifest line order")
    .argument('<batch>', 'batch id')
    .addOption(new Option('--format <format>', 'output format (default: csv for an --output ending in .csv, else jsonl)').choices(['jsonl', 'csv']))
    .option('--status <status>', 'only records with this status (completed, rejected, failed)', parseStatus)
    .option('--output <file>', 'write to this file, atomically, instead of stdout')
    .option('--attempts', 'export the attempt log instead: one row per vendor call that got an HTTP answer')
    .action(async (batch: string, opts: { format?: 'jsonl' | 'csv'; status?: RecordStatus; output?: string; attempts?: boolean }) => {
      await withRuntime(async (runtime) => {
        const count = await results(runtime, batch, { ...opts, format: resultsFormat(opts.format, opts.output) });
        if (opts.output !== undefined) process.stderr.write(`wrote ${count} ${opts.attempts ? 'attempt rows' : 'records'} to ${opts.output}\n`);
      });
    });

  registerRetryCommand(program);

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
    .option('--port <n>', 'port', positiveInt, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--latency <ms>', 'added latency per call, ms', (v) => Number(v), 0)
    .option('--failure-rate <x>', 'share of calls that fail with 5xx/reset (0–1)', (v) => Number(v), 0)
    .option('--ooto-rate-limit <limit>', 'answer 429 above this rate, e.g. 10/s')
    .option('--glair-rate-limit <limit>', 'answer 429 above this rate, e.g. 5/s')
    .option('--ooto-window <kind>', 'how OOTO counts its quota: first-call (default), wall-clock, sliding, token-bucket')
    .option('--glair-window <kind>', 'how GLAIR counts its quota (as --ooto-window)')
    .option('--ooto-burst <n>', 'token-bucket size for OOTO (default: the whole quota)', positiveInt)
    .option('--glair-burst <n>', 'token-bucket size for GLAIR', positiveInt)
    .option('--ooto-score-shift <x>', "add x to every OOTO deepfake score (a vendor model change), e.g. -0.1", (v) => Number(v))
    .option('--glair-score-shift <x>', 'the same for GLAIR (on the genuine scale: its confidence moves by -x)', (v) => Number(v))
    .option('--score-noise <x>', 'move every deepfake score by a uniform draw in [-x, +x] (0–0.5)', (v) => Number(v))
    .action(async (opts: SimulatorArgs) => {
      exitCode = await simulator(opts);
    });

  program
    .command('demo')
    .description('the simulator + a worker + a sample batch + its results, on a fresh machine')
    .action(async () => {
      exitCode = await demo();
    });

  const limitsCommand = program.command('limits').description('vendor quotas in force for the whole fleet; change them while workers run');
  limitsCommand
    .command('show', { isDefault: true })
    .description('each vendor: the quota in force and where it comes from, pauses, spent budgets, learned rate, live workers')
    .action(async () => {
      await withRuntime((runtime) => limitsShow(runtime));
    });
  limitsCommand
    .command('set')
    .description(`set a vendor quota (stored in Redis, overriding ${RATE_LIMIT_VARS}) for every running worker within ~1 s`)
    .argument('<vendor>', VENDOR_CHOICE)
    .argument('<quota...>', 'e.g. 20/s, "15/s burst 5", 15/s,800/m,50000/d, auto, "auto,max 50/s", none')
    .action(async (vendor: string, quota: string[]) => {
      await withRuntime((runtime) => limitsSet(runtime, vendor, quota.join(' ')));
    });
  limitsCommand
    .command('reset')
    .description(`remove the override: back to ${RATE_LIMIT_VARS}`)
    .argument('<vendor>', VENDOR_CHOICE)
    .action(async (vendor: string) => {
      await withRuntime((runtime) => limitsReset(runtime, vendor));
    });

  registerBatchCommands(program);
  registerHistoryCommands(program);
  registerDriftCommand(program);
  registerRingsCommand(program);
  registerAuditCommands(program, (code) => (exitCode = code));
  registerScheduleCommands(program);
  registerServeCommands(program, packageVersion(), (code) => (exitCode = code));
  registerStoreCommands(program);
  registerReviewCommands(program);
  return { program, exitCode: () => exitCode };
}

/** Stack traces are for LOG_LEVEL=debug (or trace); everyone else gets one line. */
function showTraces(): boolean {
  try {
    const level = cliConfig().logLevel;
    return level === 'debug' || level === 'trace';
  } catch {
    return false;
  }
}

/** Runs the CLI on `argv` (as `process.argv`) and sets the process's exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const { program, exitCode: commandExit } = buildProgram();
  let exitCode: number = ExitCode.OK;
  // A reader that closes our stdout (`| head -1`) is not an error: writers see the stream destroyed
  // and stop; without this listener Node would die on the EPIPE 'error' event.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') process.stderr.write(`rescreen: stdout: ${error.message}\n`);
  });
  // A stray error from a library (a connection closing late): one line, a trace only at debug level.
  const fatal = (error: unknown) => {
    process.stderr.write(`rescreen: ${error instanceof Error ? error.message : String(error)}\n`);
    if (showTraces() && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    const current = commandExit();
    process.exit(current === ExitCode.OK ? ExitCode.FAILED : current);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
    // Parse the environment first so a bad variable stops every command with its name.
    cliConfig();
    await program.parseAsync([...argv]);
    exitCode = commandExit();
  } catch (error) {
    exitCode = reportError(error);
  }
  process.exitCode = exitCode;
  // Everything is closed by now; if a stray handle (a socket in TIME_WAIT, a timer in a library)
  // would keep the process alive, do not hang: leave shortly after.
  setTimeout(() => process.exit(exitCode), 3_000).unref();
}

function reportError(error: unknown): number {
  // The application layer's errors: unusable input exits 2, nothing found exits 1.
  // Infrastructure that is not there (also outside withRuntime: `db migrate`): exit 2, like a bad setting.
  if (error instanceof RedisUnavailableError || error instanceof StoreUnavailableError) {
    process.stderr.write(`rescreen: ${error.message}\n`);
    return ExitCode.USAGE;
  }
  if (error instanceof InvalidInputError || error instanceof NotFoundError || error instanceof ConflictError) {
    process.stderr.write(`rescreen: ${error.message}\n`);
    return error instanceof NotFoundError ? ExitCode.FAILED : ExitCode.USAGE;
  }
  if (error instanceof CliError) {
    // An empty message is a quiet end (a reader that closed our stdout): nothing to say.
    if (error.message !== '') process.stderr.write(`rescreen: ${error.message}\n`);
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

