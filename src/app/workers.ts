/**
 * Running workers as the application layer offers it: which vendors a process may work for, and
 * the worker handle of the runtime. Signals and exit codes are the caller's (the CLI's).
 */
import { checkS3CredentialsAtStart } from './s3-credentials.js';
import type { Vendor } from '../vendors/types.js';
import { missingCredentials } from '../config/config.js';
import { simulatorCandidates } from '../config/simulator-credentials.js';
import { InvalidInputError } from '../errors/errors.js';
import { pendingJobCount } from '../queueing/idle.js';
import { queueOf } from '../queueing/names.js';
import type { Runtime } from '../runtime/runtime.js';

export { startWorkers, type WorkerHandle } from '../runtime/runtime.js';
export { waitUntilIdle, type UnreachableVendor } from '../queueing/idle.js';

/** `A is not set`, `A and B are not set`, `A, B and C are not set`. */
function notSet(names: readonly string[]): string {
  const list = names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${list} ${names.length === 1 ? 'is' : 'are'} not set`;
}

/**
 * The vendors a worker may work for: those with credentials. The vendors without them that have jobs
 * queued (or that `required` names: the batch `run` just enqueued) are an error naming every missing
 * variable of every such vendor in one message, before any vendor call — a call without credentials
 * only buys a 401. One with nothing queued is left out with a warning (its jobs wait for a worker
 * that has them).
 * @throws InvalidInputError naming the missing variables.
 */
export async function credentialedVendors(runtime: Runtime, vendors: readonly Vendor[], required: ReadonlySet<Vendor> = new Set()): Promise<Vendor[]> {
  // Jobs that need object storage and no AWS credentials: stop now (exit 2), before any vendor call.
  await checkS3CredentialsAtStart(runtime);
  const ready: Vendor[] = [];
  const blocking: string[] = [];
  const notSimulator = new Set(simulatorCandidates(runtime.config));
  for (const vendor of vendors) {
    const missing = missingCredentials(runtime.config, vendor);
    const label = runtime.config.vendors[vendor]?.spec.label ?? vendor;
    if (missing.length === 0) {
      ready.push(vendor);
      continue;
    }
    const queued = await pendingJobCount(queueOf(runtime.queues, vendor));
    if (queued > 0 || required.has(vendor)) {
      const settings = runtime.config.vendors[vendor];
      // A loopback base URL that did not answer as the simulator: say so, it is why no test credentials were used.
      const why = settings && notSimulator.has(vendor) ? ` (${settings.spec.baseUrlVar} ${settings.baseUrl} does not answer as the rescreen simulator)` : '';
      blocking.push(`${notSet(missing)}: ${label} has jobs to do (${queued} queued)${why}`);
      continue;
    }
    runtime.log.warn({ vendor, missing }, `${notSet(missing)}: not working for ${label}`);
  }
  if (blocking.length > 0) {
    throw new InvalidInputError(`${blocking.join('; ')}; their jobs would only be refused: set the variables and start again (nothing was called)`);
  }
  return ready;
}
