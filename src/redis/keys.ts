/**
 * Every Redis key rescreen writes, named in this one module: a new key is added here, with its
 * type, lifetime and writers, and nowhere else builds one. BullMQ's own keys
 * (`<prefix>:<queue>:…`, including the `schedules` queue's job schedulers) are BullMQ's: they are
 * reached through BullMQ's API (`queue.toKey`), never spelled here.
 *
 * Every key starts with `<prefix>:` (RESCREEN_PREFIX). Redis Cluster hashes a key on its first
 * non-empty `{…}`, so a hash-tagged prefix such as `{rescreen}` puts every key below — and BullMQ's —
 * in one slot, which the multi-key scripts need (src/redis/connect.ts assertClusterSafePrefix
 * refuses any other prefix on a Cluster). Keys must therefore never put a `{…}` before the prefix's.
 *
 * No key has a TTL: each lives until the command that owns it removes it (`purge`, `forget`,
 * `limits reset`, `schedule remove`), or is bounded by its writer (noted per key).
 *
 * The result store's keys sit under `<prefix>:store:`; a batch's under `<prefix>:store:batch:<batch>:`.
 * No per-batch suffix is the end of another (they differ in their last two letters), so no batch
 * name (which may contain `:`) can make one batch's key equal another batch's key.
 */
import type { Vendor } from '../vendors/types.js';

function storeRoot(prefix: string): string {
  return `${prefix}:store:`;
}

function batchRoot(prefix: string, batch: string): string {
  return `${storeRoot(prefix)}batch:${batch}:`;
}

/** The three record keys of one batch in the Redis result store. */
export interface StoreKeys {
  /** HASH line → record JSON, exactly as given to `put`. Written by the put script (src/redis/lua/store-put-5.lua). */
  readonly records: string;
  /**
   * HASH line → `[status, verdict, transactionId, subject, failure]` JSON (`''` for null): what a put must
   * undo when it replaces the record, and what `has` reads (small values). Written by the put script.
   */
  readonly idx: string;
  /**
   * HASH of the batch's summary: createdAt, manifest, producerDone, total, maxLine (producer),
   * maxRecordedLine and recorded (puts), `status:<s>` and `verdict:<v>` and `failed:<stoppedBy>:<code>` counts, finishedAt (the
   * finished rule), possiblyBilled (the Redis call ledger). Written by the store scripts and the ledger.
   */
  readonly meta: string;
}

/** The records, index and summary of one batch (see {@link StoreKeys}); removed by `purge`. */
export function batchKeys(prefix: string, batch: string): StoreKeys {
  const base = batchRoot(prefix, batch);
  return { records: `${base}records`, idx: `${base}idx`, meta: `${base}meta` };
}

/**
 * HASH `…:batch:<batch>:calls`: the batch's calls and gate, whatever the result store. Fields:
 * `<line>[@run]` → vendor calls counted and `…:pb` → of them possibly billed (the Redis call
 * ledger, src/store/redis-call-ledger.ts); `paid`, `spend`, `paid:<vendor>`, `paid@<store>`
 * (the gate's charge script, src/money/batch-budget.ts); `currency`, `price:<vendor>`, `store`
 * (the batch's terms, written once at enqueue, src/money/batch-terms.ts); `cap:calls`,
 * `cap:spend`, `held`, `state` (`batch raise | pause | resume | cancel`); `guard:*` (the failure-rate
 * window) and `pause:*` (why its guard paused it, src/money/failure-guard.ts). Removed by `purge`.
 */
export function callsKey(prefix: string, batch: string): string {
  return `${batchRoot(prefix, batch)}calls`;
}

/**
 * HASH `…:batch:<batch>:dedupe`: `--dedupe` batches' shared answers, field = call digest, value =
 * the claim (`pending <line> <ms>`) or the outcome JSON. Written by the dedupe scripts and
 * src/money/dedupe.ts; one field per distinct call of the batch.
 */
export function dedupeKey(prefix: string, batch: string): string {
  return `${batchRoot(prefix, batch)}dedupe`;
}

/**
 * LIST `…:batch:<batch>:attempts`: the batch's attempt log, one AttemptRow JSON per answered vendor
 * call, in append order. Written by src/store/redis-attempt-log.ts; removed by `purge`, rows by `forget`.
 */
export function attemptsKey(prefix: string, batch: string): string {
  return `${batchRoot(prefix, batch)}attempts`;
}

/**
 * HASH `…:batch:<batch>:settings`: the settings the batch's calls were answered with, field = the
 * settings' hash, value = the RunSettingsEntry JSON (HSETNX: the first stays). Written by
 * src/store/redis-attempt-log.ts; removed by `purge`.
 */
export function runSettingsKey(prefix: string, batch: string): string {
  return `${batchRoot(prefix, batch)}settings`;
}

/** HASH `…:store:tx`: transactionId → `batch\nline` ({@link recordMember}) of the last record that carried it. Written by the put script. */
export function txKey(prefix: string): string {
  return `${storeRoot(prefix)}tx`;
}

/**
 * Start of the per-subject ZSETs `…:store:subject:<subject>` (member {@link recordMember}, score
 * finishedAt in ms). The put script appends the subject itself (a replaced record's old subject is
 * only known there), so it is passed this prefix.
 */
export function subjectKeyPrefix(prefix: string): string {
  return `${storeRoot(prefix)}subject:`;
}

/** ZSET of one subject's records (see {@link subjectKeyPrefix}); emptied by `forget`. */
export function subjectKey(prefix: string, subject: string): string {
  return `${subjectKeyPrefix(prefix)}${subject}`;
}

/** ZSET `…:store:batches`: batch ids, score createdAt (ms). Written by the store's begin and put scripts. */
export function batchesKey(prefix: string): string {
  return `${storeRoot(prefix)}batches`;
}

/** HASH `…:store:attempt-tx`: transactionId → the latest AttemptRow JSON that carried it. Written by the attempt log. */
export function attemptTxKey(prefix: string): string {
  return `${storeRoot(prefix)}attempt-tx`;
}

/** SET `…:store:attempt-subject:<subject>`: batches with attempt rows of that subject (for `forget`). Written by the attempt log. */
export function attemptSubjectKey(prefix: string, subject: string): string {
  return `${storeRoot(prefix)}attempt-subject:${subject}`;
}

/** Member naming one record in the store's indexes. Batch ids never contain a newline (validateBatchId). */
export function recordMember(batch: string, line: number): string {
  return `${batch}\n${line}`;
}

/** Inverse of {@link recordMember}; `null` when the member is not one. */
export function parseRecordMember(member: string): { batch: string; line: number } | null {
  const cut = member.lastIndexOf('\n');
  if (cut < 0) return null;
  const line = Number(member.slice(cut + 1));
  if (!Number.isSafeInteger(line) || line < 1) return null;
  return { batch: member.slice(0, cut), line };
}

/**
 * HASH `<prefix>:quota:{<vendor>}`: one vendor's whole admission state (GCRA spacing, counted
 * windows, 429 pauses, `auto`'s learned rate; fields in src/redis/lua/quota-acquire-1.lua). One key
 * per vendor, so every admission script touches a single key. The vendor's braces come after the
 * prefix's hash tag, which wins on a Cluster. Written by the quota scripts and `limits set | reset`.
 */
export function quotaStateKey(prefix: string, vendor: Vendor): string {
  return `${prefix}:quota:{${vendor}}`;
}

/** HASH `<prefix>:quota:overrides`: vendor → JSON {text, setAt} of `limits set`; the field is removed by `limits reset`. */
export function quotaOverridesKey(prefix: string): string {
  return `${prefix}:quota:overrides`;
}

/**
 * HASH `<prefix>:workers`: worker id → heartbeat JSON (concurrency, latency per vendor), rewritten
 * every few seconds by each worker pool; a worker removes its own on exit, and readers prune beats
 * older than HEARTBEAT_TTL_MS (src/quota/capacity.ts).
 */
export function heartbeatsKey(prefix: string): string {
  return `${prefix}:workers`;
}

/**
 * HASH `<prefix>:schedule-state:<name>`: what a schedule last did (lastBatch, lastScheduledAt,
 * lastFiredAt, lastSkip, lastError; src/schedules/state.ts), outside the `schedules` queue's own
 * keys. Written by the schedule worker; removed by `schedule remove`.
 */
export function scheduleStateKey(prefix: string, name: string): string {
  return `${prefix}:schedule-state:${name}`;
}

/**
 * ZSET `<prefix>:s3:batches`: batches with `s3://` lines queued → when (ms), so `work` and `run`
 * require AWS credentials at start-up while their jobs may be queued (src/app/s3-credentials.ts).
 */
export function s3BatchesKey(prefix: string): string {
  return `${prefix}:s3:batches`;
}

/**
 * SET `<prefix>:s3:retried:<batch>`: the job ids of the batch's lines that `retry` queued again and
 * that name `s3://` media. Once a batch has finished, those are the only jobs of it that can still be
 * queued, so start-up looks them up (src/app/s3-credentials.ts); ids whose job is gone are removed.
 */
export function s3RetriedKey(prefix: string, batch: string): string {
  return `${prefix}:s3:retried:${batch}`;
}

/**
 * HASH `<prefix>:producer:<batch>`: the producer's cursor of a batch {fingerprint, line, done}, so
 * a producer that restarts resumes after the last line written (src/queueing/producer-window.ts).
 */
export function producerCursorKey(prefix: string, batch: string): string {
  return `${prefix}:producer:${batch}`;
}

/**
 * HASH `<prefix>:webhook:deliveries`: batch → its completion webhook's latest DeliveryRecord JSON.
 * Written by the webhook worker (src/notify/deliveries.ts); at most MAX_DELIVERIES_KEPT, the oldest dropped.
 */
export function webhookDeliveriesKey(prefix: string): string {
  return `${prefix}:webhook:deliveries`;
}

/** ZSET `<prefix>:webhook:deliveries:order`: batch, score the delivery's last change (ms); orders and bounds {@link webhookDeliveriesKey}. */
export function webhookDeliveryOrderKey(prefix: string): string {
  return `${prefix}:webhook:deliveries:order`;
}

/**
 * HASH `<prefix>:changes:counts`: batch → JSON {sig, counts}, a finished batch's change counts
 * kept with the signature of the summary they were counted from (src/history/change-counts.ts).
 */
export function changeCountsKey(prefix: string): string {
  return `${prefix}:changes:counts`;
}

// ---------------------------------------------------------------- review cases (src/store/redis-case-store.ts)

/**
 * The case store's keys sit under `<prefix>:cases:`. A case id is `c` + 16 hex digits, so no case
 * key is another's; a batch or subject name (free text) only ever ends a key.
 */
export interface CaseKeys {
  /** ZSET id → seq: every case, in opening order. */
  readonly all: string;
  /** ZSET id → seq: the cases not decided (the queue `review next` takes from). */
  readonly queue: string;
  /** ZSET id → seq: the decided cases. */
  readonly decided: string;
  /** STRING counter: the last seq given. */
  readonly seq: string;
  /** LIST of erasure tombstones (JSON), newest first; bounded to 10 000. */
  readonly erasures: string;
  /** Prefix of `HASH <prefix>:cases:case:<id>` (the case's fields) — passed to the scripts, which read cases by id. */
  readonly casePrefix: string;
}

export function caseKeys(prefix: string): CaseKeys {
  const root = `${prefix}:cases:`;
  return { all: `${root}all`, queue: `${root}queue`, decided: `${root}decided`, seq: `${root}seq`, erasures: `${root}erasures`, casePrefix: `${root}case:` };
}

/** HASH of one case: batch, subject, seq, openedAt, reasons (comma list), lineNos, lines (JSON), state, claimedBy, leaseUntil (ms), decision, decidedBy, decidedAt, decisions. */
export function caseKey(prefix: string, id: string): string {
  return `${caseKeys(prefix).casePrefix}${id}`;
}

/** LIST of one case's decisions (JSON), append-only (RPUSH; removed only by `forget --subject`). */
export function caseDecisionsKey(prefix: string, id: string): string {
  return `${prefix}:cases:decisions:${id}`;
}

/** ZSET id → seq: the cases of one batch. */
export function batchCasesKey(prefix: string, batch: string): string {
  return `${prefix}:cases:batch:${batch}`;
}

/** SET of the case ids of one subject. */
export function subjectCasesKey(prefix: string, subject: string): string {
  return `${prefix}:cases:subject:${subject}`;
}

/** HASH batch → its `--review` rules as given (src/review/rules.ts); absent: the defaults. */
export function reviewRulesKey(prefix: string): string {
  return `${prefix}:cases:rules`;
}

/**
 * HASH `<prefix>:drift:reports`: batch → JSON {sig, report}, a finished batch's drift report kept with
 * the signatures of the distributions it compared (src/drift/report.ts); recomputed when one moves.
 */
export function driftReportsKey(prefix: string): string {
  return `${prefix}:drift:reports`;
}

/**
 * The ring store's keys (src/store/redis-ring-store.ts) sit under `<prefix>:rings:`: entries
 * (`media`, `sha:<sha256>`, `band:<b>:<v>`, `tpl:<templateId>`), rings (`member`, `all`,
 * `ring:<id>`, `members:<id>`, `links:<id>`) and the `lock` of `addLinks`.
 */
export function ringsRoot(prefix: string): string {
  return `${prefix}:rings:`;
}
