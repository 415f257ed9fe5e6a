/**
 * Every Lua script rescreen runs, in one registry: one typed function per script, called with the
 * client and one object of named keys and arguments, resolving to the script's reply as Redis
 * returns it. The scripts are the files of ./lua/ (what each does, its KEYS, ARGV and reply are
 * in its header); ./lua-script.ts reads and checks them when this module loads.
 *
 *     const [created, finished] = await scripts.storePut(redis, { recordsKey, …, nowIso });
 *
 * Keys come from ./keys.ts. A script touches only keys of one prefix, which a hash-tagged prefix
 * keeps in one Cluster slot.
 */
import { defineScript } from './lua-script.js';

/** Why a permit was not granted (src/quota/state.ts WaitReason). */
export type PermitWait = 'hold' | 'window' | 'spacing';

/**
 * quota-acquire: granted `[1, delayMs, slotMs, tat, tatBefore]` (tat `''` when calls are not
 * spaced), or refused `[0, waitMs, reason, resumeAtMs, unit, max]` (unit and max `''` unless a
 * counted window is spent).
 */
export type AcquireReply = [1, string, string, string, string] | [0, string, PermitWait, string, string, string];

/** quota-refused: `[newPause (0|1), holdMs, pauses, refused, rate]`. */
export type RefusedReply = [number, string, number, number, string];

/** batch-charge: the line's `[calls, possiblyBilled]`, or `[code]` of a refusal (-1 … -5, see the file). */
export type ChargeCodes = [number, number] | [number];

/** batch-terms: `[1]` recorded, `[0]` it had terms, `[-1, store]` it belongs to another store. */
export type TermsReply = [1] | [0] | [-1, string];

export const scripts = {
  // The Redis result store (src/store/redis-result-store.ts, redis-attempt-log.ts).
  /** Stores or replaces one record, moves its counts and indexes; `[created, finished]`, each 0|1. */
  storePut: defineScript<[number, number]>()('store-put-5', {
    keys: ['recordsKey', 'idxKey', 'metaKey', 'txKey', 'batchesKey'],
    args: ['batch', 'line', 'recordJson', 'idxJson', 'status', 'verdict', 'transactionId', 'subject', 'failure', 'subjectScore', 'member', 'subjectKeyPrefix', 'nowMs', 'nowIso'],
  }),
  /** Registers a batch (first createdAt kept, latest manifest, producer running again). */
  storeBeginBatch: defineScript<number>()('store-begin-batch-2', {
    keys: ['metaKey', 'batchesKey'],
    args: ['batch', 'manifest', 'nowMs', 'nowIso'],
  }),
  /** Marks the producer done with its counts; 1 when that finished the batch. */
  storeFinishBatch: defineScript<number>()('store-finish-batch-1', { keys: ['metaKey'], args: ['total', 'maxLine', 'nowIso'] }),
  /** Removes one record and its counts (`forget`); 1 when there was one. */
  storeRemoveRecord: defineScript<number>()('store-remove-record-4', {
    keys: ['recordsKey', 'idxKey', 'metaKey', 'txKey'],
    args: ['line', 'member'],
  }),

  // The Redis ring store (src/store/redis-ring-store.ts).
  /** Releases a lock key its holder's token still holds; 1 when released. */
  lockRelease: defineScript<number>()('lock-release-1', { keys: ['lockKey'], args: ['token'] }),

  // The Redis case store (src/store/redis-case-store.ts).
  /** Opens a case unless it exists (then adds the reasons and lines it lacks); `[opened 0|1, seq]`. */
  caseOpen: defineScript<[number, number]>()('case-open-6', {
    keys: ['caseKey', 'allKey', 'queueKey', 'batchKey', 'subjectKey', 'seqKey'],
    args: ['id', 'batch', 'subject', 'reasons', 'nowIso'],
    list: 'lines',
  }),
  /** Claims the oldest claimable case for a lease; `[id, nowMs]` or `[]`. */
  caseClaim: defineScript<[string, string] | []>()('case-claim-1', { keys: ['sourceKey'], args: ['casePrefix', 'reviewer', 'leaseMs'] }),
  /** Appends a decision unless another reviewer's claim is live. */
  caseDecide: defineScript<['ok', string] | ['not-found'] | ['claimed', string, string]>()('case-decide-4', {
    keys: ['caseKey', 'decisionsKey', 'queueKey', 'decidedKey'],
    args: ['id', 'reviewer', 'decision', 'note', 'at'],
  }),
  /** Gives a claim back (its holder only); 1 when released. */
  caseRelease: defineScript<number>()('case-release-1', { keys: ['caseKey'], args: ['reviewer'] }),
  /** Cases' fields with Redis's clock: `[nowMs, HGETALL of each id]`. */
  caseRead: defineScript<[string, ...string[][]]>()('case-read-1', { keys: ['allKey'], args: ['casePrefix'], list: 'ids' }),
  /** Sets a hash field only while it holds the value read (an erased subject out of a case's lines); 1 when set. */
  hashFieldSwap: defineScript<number>()('hash-field-swap-1', { keys: ['hashKey'], args: ['field', 'expected', 'value'] }),

  // Fleet-wide admission per vendor (src/quota/admission.ts): one key, the vendor's admission hash.
  /** Takes one permit (spacing and counted windows). */
  quotaAcquire: defineScript<AcquireReply>()('quota-acquire-1', {
    keys: ['stateKey'],
    args: ['clockMs', 'horizonMs', 'intervalMs', 'burst', 'auto', 'autoMax', 'autoInitial', 'spanMs', 'spanMax'],
    list: 'windows',
  }),
  /** A 429: holds every call of the vendor. */
  quotaRefused: defineScript<RefusedReply>()('quota-refused-1', {
    keys: ['stateKey'],
    args: ['clockMs', 'retryAfterMs', 'baseMs', 'maxMs', 'auto', 'autoMin'],
  }),
  /** The fleet's clock, ms as a string. */
  quotaClock: defineScript<string>()('quota-clock-1', { keys: ['stateKey'], args: ['clockMs'] }),
  /** A granted call sent late: pushes the next slot back. */
  quotaLate: defineScript<number>()('quota-late-1', { keys: ['stateKey'], args: ['lateMs'] }),
  /** Gives back a permit whose call was not sent. */
  quotaRelease: defineScript<number>()('quota-release-1', { keys: ['stateKey'], args: ['tatAfter', 'tatBefore', 'slotMs'], list: 'windows' }),

  // A batch's calls hash (src/money/batch-budget.ts, batch-terms.ts).
  /** The batch's gate and the line's counter, when a call leaves. */
  batchCharge: defineScript<ChargeCodes>()('batch-charge-1', { keys: ['callsKey'], args: ['lineField', 'vendor', 'store'], list: 'fallbackPrices' }),
  /** Takes back a call that cost nothing. */
  batchRefund: defineScript<number>()('batch-refund-1', { keys: ['callsKey'], args: ['lineField', 'vendor', 'store'], list: 'fallbackPrices' }),
  /** Records the batch's terms unless it has them. */
  batchTerms: defineScript<TermsReply>()('batch-terms-1', { keys: ['callsKey'], args: ['store', 'currency'], list: 'prices' }),
  /** Counts a finished line in the failure-rate window; `[1, failed, seen, ratePpm, window]` when it paused the batch, else `[0]`. */
  batchFailureGuard: defineScript<number[]>()('batch-failure-guard-1', { keys: ['callsKey'], args: ['outcome', 'code', 'nowIso'] }),

  // `--dedupe` (src/money/dedupe.ts).
  /** `'claimed'`, `'wait'`, or the shared outcome's JSON. */
  dedupeClaim: defineScript<string>()('dedupe-claim-1', { keys: ['dedupeKey'], args: ['digest', 'line', 'staleMs'] }),
  /** Releases the line's claim (if still its own). */
  dedupeRelease: defineScript<number>()('dedupe-release-1', { keys: ['dedupeKey'], args: ['digest', 'line'] }),

  // Schedules (src/schedules/state.ts).
  /** Moves a schedule's `lastBatch` forward in scheduled time only; 1 when it moved. */
  scheduleRecordFiring: defineScript<number>()('schedule-record-firing-1', { keys: ['stateKey'], args: ['batch', 'scheduledMs', 'firedAt'] }),

  // The producer (src/queueing/chunk-writer.ts), on BullMQ's client.
  /** 1/0 per job key: whether it exists. */
  jobsExist: defineScript<number[]>()('jobs-exist-1', { keys: ['metaKey'], list: 'jobKeys' }),
} as const;
