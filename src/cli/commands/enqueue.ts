import { resolve } from 'node:path';
import type { CheckName } from '../../checks/registry.js';
import { ManifestUnreadableError } from '../../manifest/errors.js';
import { validateBatchId } from '../../manifest/line.js';
import { enqueueManifest, type EnqueueSummary } from '../../queues/producer.js';
import type { Runtime } from '../../runtime/runtime.js';
import { defaultBatchId } from '../batch-id.js';
import { CliError, ExitCode } from '../cli-error.js';

export interface EnqueueArgs {
  readonly manifest: string;
  readonly batch?: string;
  readonly check?: CheckName;
  readonly dryRun?: boolean;
}

/** At most this many invalid lines are named on stderr; the rest are counted (all have records). */
const MAX_INVALID_SHOWN = 200;

/** Resolves the batch id (given, or derived from the manifest) and checks it. */
export async function resolveBatchId(manifest: string, batch: string | undefined): Promise<string> {
  if (batch !== undefined) {
    const checked = validateBatchId(batch);
    if (!checked.ok) throw new CliError(`--batch ${JSON.stringify(batch)}: ${checked.reason}`, ExitCode.USAGE);
    return checked.batch;
  }
  try {
    return await defaultBatchId(manifest);
  } catch (error) {
    throw new CliError(`cannot read manifest ${manifest}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, ExitCode.USAGE);
  }
}

/** Streams the manifest into the queues. Shared by `enqueue` and `run`. */
export async function enqueue(runtime: Runtime, args: EnqueueArgs): Promise<EnqueueSummary> {
  const batch = await resolveBatchId(args.manifest, args.batch);
  try {
    return await enqueueManifest({
      manifestPath: resolve(args.manifest),
      batch,
      ...(args.check !== undefined ? { checkOverride: args.check } : {}),
      dryRun: args.dryRun ?? false,
      queues: runtime.queues,
      store: runtime.store,
    });
  } catch (error) {
    if (error instanceof ManifestUnreadableError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
}

export function printEnqueueSummary(summary: EnqueueSummary, dryRun: boolean): void {
  for (const { line, reason } of summary.invalidLines.slice(0, MAX_INVALID_SHOWN)) {
    process.stderr.write(`line ${line}: ${reason}\n`);
  }
  if (summary.invalid > MAX_INVALID_SHOWN) {
    process.stderr.write(`… and ${summary.invalid - MAX_INVALID_SHOWN} more invalid lines (rescreen results ${summary.batch} lists them all)\n`);
  }
  const checks = Object.entries(summary.byCheck)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  // A dry run reads no Redis, so it cannot know which lines already have a record: it counts valid lines.
  const valid = Object.values(summary.byCheck).reduce((a, b) => a + b, 0);
  const verb = dryRun ? 'would enqueue' : 'enqueued';
  process.stdout.write(
    `batch ${summary.batch}\n` +
      `${summary.lines} lines: ${verb} ${dryRun ? valid : summary.enqueued}` +
      `, already recorded ${summary.alreadyRecorded}, already queued ${summary.alreadyQueued}, invalid ${summary.invalid}` +
      (checks ? ` (${checks})` : '') +
      ` in ${(summary.durationMs / 1000).toFixed(1)}s\n`,
  );
}
