/**
 * A line's record as a job writes it: the one rule on whether the line may get one, the fields every
 * record shares, and the one factory of `failed` / `rejected` records (the job runner's failures, a
 * job BullMQ gave up, a line `batch cancel` took off the queue).
 */
import type { JobPayload, MediaDigest, RecordError, ResultRecord, StoppedBy } from '../checks/types.js';
import { ErrorCodes, MalformedResponseError, RescreenError, VendorApiError, VendorError } from '../errors/errors.js';
import { recordRefs } from '../media/refs.js';
import type { ReusedFrom } from '../money/dedupe.js';
import { minimiseResponse, storedResponse } from './stored-response.js';

/** What a record needs besides the job: the clock, the redaction, and how much of a vendor answer is kept. */
export interface RecordDeps {
  readonly redact: (text: string) => string;
  readonly now?: () => Date;
  /** Most bytes of a vendor answer kept in a record (RESCREEN_MAX_RESPONSE_BYTES); default 64 KiB. */
  readonly maxResponseBytes?: number;
  /** `minimal` drops the vendor's demography and landmarks from stored answers; left out, the answer is kept whole. */
  readonly keepResponse?: 'full' | 'minimal';
}

/** The job a record is written for: its payload and its 1-based BullMQ attempt. */
export interface RecordedJob {
  readonly payload: JobPayload;
  readonly attempt: number;
}

/**
 * May a job write the line's record, given the one it has (if any)? At least once: a repeat (stalled
 * job, re-enqueue race) never writes over a line that has its record; a retry run replaces only
 * `failed` records, never final answers.
 */
export function mayRecord(payload: Pick<JobPayload, 'retry'>, existing: ResultRecord | null | undefined): boolean {
  return !existing || (payload.retry === true && existing.status === 'failed');
}

/** What a record says besides the job: its outcome, the check's own fields and the call counts. */
export type Outcome = Pick<ResultRecord, 'status' | 'transactionId' | 'verdict' | 'score' | 'error' | 'response'> & {
  /** The check's own record fields (CheckModule.recordFields). */
  [checkField: string]: unknown;
  stoppedBy?: StoppedBy;
  possiblyBilled?: number;
  reusedFrom?: ReusedFrom;
  media?: readonly MediaDigest[];
};

/** The record of `job` with `outcome`: the line's fields, the vendor answer redacted and capped, the attempt and the time. */
export function lineRecord(job: RecordedJob, deps: RecordDeps, outcome: Outcome): ResultRecord {
  const { payload } = job;
  return {
    batch: payload.batch,
    line: payload.line,
    subject: payload.subject,
    // Without query string or fragment: a signed URL's token never reaches a record.
    ...recordRefs(payload.frames !== undefined ? { frames: payload.frames } : { ref: payload.ref ?? '' }),
    check: payload.check,
    ...(payload.options !== undefined ? { options: payload.options } : {}),
    ...(payload.previous !== undefined ? { previous: payload.previous } : {}),
    ...(payload.enrolledTemplateId !== undefined ? { enrolledTemplateId: payload.enrolledTemplateId } : {}),
    ...(payload.canary !== undefined ? { canary: payload.canary } : {}),
    ...outcome,
    // Whatever the vendor sent back may echo our credentials and may be huge: redacted and capped.
    ...storedResponse(deps.keepResponse === 'minimal' ? minimiseResponse(outcome.response) : outcome.response, deps.redact, deps.maxResponseBytes),
    attempts: job.attempt,
    finishedAt: (deps.now?.() ?? new Date()).toISOString(),
  };
}

/** How a line failed: the error that ended it, and what else its record says. */
export interface Failure {
  /** The cause: its taxonomy code (else INTERNAL) and redacted message; a vendor error's transaction id and body. */
  readonly error: unknown;
  /** `rejected` for a line the vendor refused for good; default `failed`. */
  readonly status?: 'rejected' | 'failed';
  /** The limit that ended the line's retries, and why in words (added to the cause's message). */
  readonly stop?: { readonly stoppedBy: StoppedBy; readonly why?: string };
  /** The job's call counts: possiblyBilled, media sent, a `--dedupe` reuse. */
  readonly billed?: Pick<Outcome, 'possiblyBilled' | 'media' | 'reusedFrom'>;
}

/** The one factory of a `failed` or `rejected` record. */
export function failedRecord(job: RecordedJob, failure: Failure, deps: RecordDeps): ResultRecord {
  const { error, stop } = failure;
  const cause = recordErrorOf(error, deps.redact);
  return lineRecord(job, deps, {
    status: failure.status ?? 'failed',
    transactionId: error instanceof VendorError ? error.transactionId : null,
    verdict: null,
    score: null,
    error: stop?.why === undefined ? cause : { code: cause.code, message: `${cause.message}; ${stop.why}` },
    ...(stop ? { stoppedBy: stop.stoppedBy } : {}),
    response: error instanceof VendorApiError || error instanceof MalformedResponseError ? (error.body ?? null) : null,
    ...failure.billed,
  });
}

/** `{code, message}` for a record: taxonomy codes as they are, anything else INTERNAL. Never a secret. */
export function recordErrorOf(error: unknown, redact: (text: string) => string): RecordError {
  if (error instanceof RescreenError) return { code: error.code, message: redact(error.message) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: ErrorCodes.INTERNAL, message: redact(message) };
}
