/** The BullMQ `failed` event of a vendor worker: a job BullMQ gave up without running it still gets its record. */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Vendor } from '../vendors/types.js';
import type { JobPayload } from '../checks/types.js';
import { recordLostJob, type JobRunnerDeps } from './job-runner.js';

/** The listener: a `failed` record for a job BullMQ failed itself (stalled too often); a debug line for an attempt that failed. */
export function onJobFailed(vendor: Vendor, runner: JobRunnerDeps, log: Logger): (job: Job<JobPayload> | undefined, error: Error) => void {
  return (job, error) => {
    if (job?.deferredFailure !== undefined) {
      // Failed by BullMQ itself, without running our processor: the line still needs its record.
      const attempt = { payload: job.data, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 };
      recordLostJob(attempt, job.deferredFailure, runner)
        .then((record) => record && log.error({ vendor, batch: record.batch, line: record.line }, 'job given up by BullMQ; failed record written'))
        .catch((err: unknown) => log.error({ vendor, jobId: job.id, err }, 'could not record a job BullMQ gave up'));
    } else if (!(error instanceof UnrecoverableError)) {
      log.debug({ vendor, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error.message }, 'attempt failed');
    }
  };
}
