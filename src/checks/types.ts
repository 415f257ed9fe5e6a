/**
 * Contracts shared by the producer, the worker, the job processors and the store.
 */

/** A check's name (`ooto-deepfake`, …): a job name, a manifest's `check`, a record's `check` (the check registry knows them). */
export type CheckName = string;

/** A check's answer, as rescreen states it (README: the table of checks). */
export type Verdict = 'genuine' | 'deepfake' | 'match' | 'no-match';

/** How a record ended (README: The result record). */
export type RecordStatus = 'completed' | 'rejected' | 'failed';
export const RECORD_STATUSES: readonly RecordStatus[] = ['completed', 'rejected', 'failed'];
export const VERDICTS: readonly Verdict[] = ['genuine', 'deepfake', 'match', 'no-match'];

/**
 * A check's own options, as its module's payload schema declares them under `options` (jobs/*.ts;
 * ooto-identify: `{checkLiveness, checkDeepfake}`). Generic code only carries them.
 */
export type CheckOptions = Readonly<Record<string, unknown>>;

/** The value of a field a check adds to its records (see `CheckModule.recordFields`). */
export type RecordFieldValue = string | number | boolean | null;

/**
 * The decision a manifest line is re-screening (onboarding's verdict), given on the line as
 * `previous: {verdict, score?, at?}` or the CSV columns `previousVerdict`, `previousScore`,
 * `previousAt`. `rescreen changes` compares against it when the subject has no earlier record.
 */
export interface PreviousScreening {
  readonly verdict: Verdict;
  readonly score?: number | null;
  /** ISO 8601 date or time of that decision, as given. */
  readonly at?: string | null;
}

/**
 * One job: a validated manifest line plus where it came from. Stored as the BullMQ job's data.
 * Exactly one of `ref` / `frames` is set.
 */
export interface JobPayload {
  readonly batch: string;
  /** 1-based line number in the manifest. */
  readonly line: number;
  readonly check: CheckName;
  readonly subject: string | null;
  readonly ref?: string;
  readonly frames?: readonly string[];
  /** The check's own options, when the line gave them (validated by the check's payload schema). */
  readonly options?: CheckOptions;
  /** Absolute folder that relative media paths resolve against (the manifest's own folder). */
  readonly baseDir: string;
  /** Set by `retry`: replace an existing `failed` record instead of skipping the line. */
  readonly retry?: boolean;
  /** The onboarding decision the line re-screens, when the manifest gave one. */
  readonly previous?: PreviousScreening;
  /** The line's `templateId`: the OOTO template the subject is enrolled as (the rings link it). */
  readonly enrolledTemplateId?: string;
  /** The batch was enqueued with `--dedupe`: identical vendor calls share one answer. */
  readonly dedupe?: true;
  /** A canary line (`--canary`): the verdict its label expects and the batch's canary threshold. */
  readonly canary?: CanaryMark;
  /** How many times a 429 has sent this job back (capped by `RESCREEN_MAX_RATE_LIMITED`). */
  readonly rateLimited?: number;
  /** How many times in a row this job found its batch paused or at its cap (its wait doubles each time). */
  readonly held?: number;
  /** How many times this job's own call met a gateway failure while its vendor's breaker stayed closed. */
  readonly unavailable?: number;
}

/** What a processor returns when the vendor answered with a result. */
export interface CheckOutcome {
  readonly verdict: Verdict;
  /** Higher = more genuine (deepfake checks) or more similar (identify). 0–1. */
  readonly score: number;
  readonly transactionId: string | null;
  /** The vendor's parsed answer, kept for audit. */
  readonly response: unknown;
  /** The fields the check declares in `recordFields` (ooto-identify: `templateId`); one left out is `null`. */
  readonly fields?: Readonly<Record<string, RecordFieldValue>>;
}

/**
 * What ended the retries of a `failed` line whose cause was worth another try (README: The result
 * record, `stoppedBy`): `call-budget` — the line made RESCREEN_MAX_CALLS_PER_LINE vendor calls;
 * `attempts` — it used its RESCREEN_ATTEMPTS; `rate-limited` — the vendor sent it back with 429
 * more than RESCREEN_MAX_RATE_LIMITED times. The cause itself is the record's `error.code`.
 */
export type StoppedBy = 'call-budget' | 'attempts' | 'rate-limited';
export const STOPPED_BY: readonly StoppedBy[] = ['call-budget', 'attempts', 'rate-limited'];

/** `{code, message}` of a record that did not complete. Vendor engine codes keep the vendor's values. */
export interface RecordError {
  readonly code: string | number;
  readonly message: string;
}

/** What was screened: the exact bytes sent to the vendor (one entry per file; a frame set has one per frame). */
export interface MediaDigest {
  /** sha256 (hex) of the bytes sent. */
  readonly sha256: string;
  readonly bytes: number;
  /** Sniffed from the bytes (image/jpeg, image/png, video/mp4). */
  readonly type: string;
  /** s3:// media: the object's version id, when the bucket is versioned. */
  readonly versionId?: string;
  /** s3:// media: the object's ETag (without quotes). */
  readonly etag?: string;
  /** Perceptual hashes (src/media/perceptual.ts; an mp4's first keyframe): 16 hex digits each. */
  readonly phash?: string;
  readonly dhash?: string;
  /** The same of the picture's centre 95 %. */
  readonly cphash?: string;
  readonly cdhash?: string;
  /** Why there are no perceptual hashes (undecodable picture, no video decoder); the line goes on. */
  readonly notHashed?: string;
}

/**
 * The result record: exactly one per (batch, manifest line) (README: The result record). Besides the
 * fields below, a completed record carries the fields its check declares (`CheckModule.recordFields`;
 * ooto-identify: `templateId`), at the top level.
 */
export interface ResultRecord {
  /** A field its check declares (`CheckModule.recordFields`), e.g. ooto-identify's `templateId`. */
  readonly [checkField: string]: unknown;
  readonly batch: string;
  /** 1-based manifest line. */
  readonly line: number;
  readonly subject: string | null;
  /** The media ref as given, without any query string or fragment (signed URLs carry secrets there). */
  readonly ref?: string;
  /** The frame refs, each without query string or fragment. */
  readonly frames?: readonly string[];
  /** Set when a ref (or a frame ref) had a query string or fragment that was stripped. */
  readonly refHadQuery?: true;
  /** The bytes sent to the vendor by the call that made this record; absent when none was sent. */
  readonly media?: readonly MediaDigest[];
  /** The check; `null` only for an invalid line that named none. */
  readonly check: CheckName | null;
  /** The check's own options, when the line gave them (kept so `retry` can send the same call). */
  readonly options?: CheckOptions;
  /** The onboarding decision the line re-screens, copied from the manifest line when given. */
  readonly previous?: PreviousScreening;
  /** The manifest line's `templateId` (the subject's own enrolled OOTO template), when given. */
  readonly enrolledTemplateId?: string;
  readonly status: RecordStatus;
  /** The vendor's id for the call that produced this record; `null` only when no vendor call answered. */
  readonly transactionId: string | null;
  /** `null` unless `completed`. */
  readonly verdict: Verdict | null;
  /** `null` unless `completed`. */
  readonly score: number | null;
  /** `null` when `completed`. For a `failed` line, the cause of its last failure (`VENDOR_TIMEOUT`, `HTTP_503`, …). */
  readonly error: RecordError | null;
  /**
   * `failed` lines only: which limit ended the retries ({@link StoppedBy}); absent when the failure
   * was final by nature (a malformed answer, missing media, an invalid line).
   */
  readonly stoppedBy?: StoppedBy;
  /** BullMQ attempts it took (each may include quick in-call retries); 0 for lines never enqueued. */
  readonly attempts: number;
  /**
   * Vendor calls of this line that were sent and got no answer (timeout, reset): the vendor may have
   * billed them. Present only when > 0.
   */
  readonly possiblyBilled?: number;
  /** `--dedupe`: the vendor answer was paid for by this line (of this batch) and reused here: no call of its own. */
  readonly reusedFrom?: { readonly batch: string; readonly line: number; readonly transactionId: string | null };
  /**
   * A canary line (`--canary`): known media screened inside the batch to watch the vendor, with the
   * verdict its label expects. Canary records count in the batch's summary but never in `changes`,
   * drift, cases or rings ({@link isCanary}).
   */
  readonly canary?: CanaryMark;
  /** ISO 8601. */
  readonly finishedAt: string;
  /**
   * The vendor's answer, parsed (success or error body), with every configured secret redacted;
   * `null` when none. Over RESCREEN_MAX_RESPONSE_BYTES it is the start of its JSON text (a string).
   */
  readonly response: unknown;
  /** Set when `response` was cut to RESCREEN_MAX_RESPONSE_BYTES. */
  readonly responseTruncated?: true;
  /** Bytes of the whole answer (JSON text) when it was cut. */
  readonly responseBytes?: number;
  /** sha256 (hex) of the whole answer (JSON text) when it was cut. */
  readonly responseSha256?: string;
}

/**
 * What marks a canary line's job and record: the verdict its label expects, and how far the mean of
 * the batch's canary scores may move before the canary alert (`--canary-threshold`, default 0.1).
 */
export interface CanaryMark {
  readonly expect: Verdict;
  readonly threshold?: number;
}

/** Whether a record is a canary line's (`--canary`): every reader of a batch's customers leaves these out. */
export function isCanary(record: Pick<ResultRecord, 'canary'>): boolean {
  return record.canary !== undefined;
}
