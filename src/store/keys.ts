/**
 * Key layout of the Redis result store. Everything lives under `${prefix}:store:`.
 *
 * | key | type | content |
 * |---|---|---|
 * | `batch:<batch>:records` | HASH | line → record JSON, exactly as given to `put` |
 * | `batch:<batch>:idx` | HASH | line → `[status, verdict, transactionId, subject, failure]` JSON (`''` for null; `failure` is records.ts failureKey, absent in entries of older releases): what `put` must undo on replace, and what `has` reads (small values) |
 * | `batch:<batch>:meta` | HASH | createdAt, manifest, producerDone, total, maxLine (producer), maxRecordedLine (puts), recorded, `status:<s>`, `verdict:<v>`, `failed:<stoppedBy>:<code>` (failed records by cause), possiblyBilled (call budget) |
 * | `batch:<batch>:calls` | HASH | `<line>[@run]` → vendor calls counted, `…:pb` → of them possibly billed (src/queues/call-budget.ts); the batch's gate: paid totals, terms (prices, currency, store), caps, state (src/queues/batch-budget.ts) |
 * | `tx` | HASH | transactionId → `batch\nline` (the last record that carried it) |
 * | `subject:<subject>` | ZSET | `batch\nline`, score = finishedAt (ms) |
 * | `batches` | ZSET | batch, score = createdAt (ms) |
 * | `batch:<batch>:attempts` | LIST | the attempt log of the batch: one AttemptRow JSON per answered vendor call, append order |
 * | `attempt-tx` | HASH | transactionId → the latest AttemptRow JSON that carried it |
 * | `attempt-subject:<subject>` | SET | batches with attempt rows of that subject (for `forget`) |
 *
 * No per-batch suffix is the end of another (they differ in their last two letters), so no batch name
 * (which may contain `:`) can make one batch's key equal another batch's key.
 */
/** Keys of one batch. */
export interface StoreKeys {
  readonly records: string;
  readonly idx: string;
  readonly meta: string;
}

/** Common start of every store key. */
export function storeRoot(prefix: string): string {
  return `${prefix}:store:`;
}

/** The three keys of one batch. */
export function batchKeys(prefix: string, batch: string): StoreKeys {
  const base = `${storeRoot(prefix)}batch:${batch}:`;
  return { records: `${base}records`, idx: `${base}idx`, meta: `${base}meta` };
}

/** The attempt log of one batch (LIST). */
export function attemptsKey(prefix: string, batch: string): string {
  return `${storeRoot(prefix)}batch:${batch}:attempts`;
}

/** transactionId → latest AttemptRow JSON (HASH). */
export function attemptTxKey(prefix: string): string {
  return `${storeRoot(prefix)}attempt-tx`;
}

/** Batches with attempt rows of a subject (SET). */
export function attemptSubjectKey(prefix: string, subject: string): string {
  return `${storeRoot(prefix)}attempt-subject:${subject}`;
}

/** transactionId → `batch\nline`. */
export function txKey(prefix: string): string {
  return `${storeRoot(prefix)}tx`;
}

/** Prefix of the per-subject ZSETs; the subject is appended as is. */
export function subjectKeyPrefix(prefix: string): string {
  return `${storeRoot(prefix)}subject:`;
}

/** Batches by createdAt (ms). */
export function batchesKey(prefix: string): string {
  return `${storeRoot(prefix)}batches`;
}

/** Member naming one record in the indexes. Batch ids never contain a newline (validateBatchId). */
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
