/**
 * Lua scripts of the Redis result store. Run atomically by Redis, so two workers writing the same
 * (batch, line) at once still leave one record and counts that add up.
 *
 * Arguments are named. Each script is declared with the names of its KEYS and of its ARGV, in order;
 * that list is the only place the order is written: {@link script} binds every name to a Lua local
 * at the top of the script (`local metaKey, batchesKey = unpack(KEYS)`), and
 * {@link scriptCall} turns named TypeScript arguments into KEYS + ARGV, checked by the compiler.
 * (One JSON argument decoded with `cjson.decode` reads as well, but costs Redis about 4 µs per put,
 * some 15% of the put script's time; binding names costs nothing.) Every argument is a string,
 * `''` for null.
 *
 * Subject keys are built inside the script from a prefix passed as an argument (the old record's
 * subject is only known there). That is fine on a single Redis; on Redis Cluster it needs a
 * hash-tagged prefix such as `{rescreen}` so every key lands in one slot, as BullMQ needs anyway.
 */

/** Named values for a list of names. */
export type Named<N extends readonly string[]> = { readonly [K in N[number]]: string };

/** A Lua script with named KEYS and ARGV. */
export interface Script<K extends readonly string[], A extends readonly string[]> {
  readonly keys: K;
  readonly args: A;
  /** The script, starting with the lines that bind each key and argument to its name. */
  readonly lua: string;
}

function bind(names: readonly string[], table: 'KEYS' | 'ARGV'): string {
  if (names.length === 0) return '';
  // One unpack is cheaper in Redis's Lua than indexing KEYS/ARGV once per name.
  return `local ${names.join(', ')} = unpack(${table})\n`;
}

function script<const K extends readonly string[], const A extends readonly string[]>(
  keys: K,
  args: A,
  body: string,
): Script<K, A> {
  return { keys, args, lua: `${bind(keys, 'KEYS')}${bind(args, 'ARGV')}${body}` };
}

/** KEYS then ARGV of one call of `s`, in the script's order (a plain loop: this runs once per put). */
export function scriptCall<K extends readonly string[], A extends readonly string[]>(
  s: Script<K, A>,
  keys: Named<K>,
  args: Named<A>,
): string[] {
  const out = new Array<string>(s.keys.length + s.args.length);
  const keyValues: Readonly<Record<string, string>> = keys;
  const argValues: Readonly<Record<string, string>> = args;
  for (let i = 0; i < s.keys.length; i++) out[i] = keyValues[s.keys[i]!]!;
  for (let i = 0; i < s.args.length; i++) out[s.keys.length + i] = argValues[s.args[i]!]!;
  return out;
}

/**
 * The finished rule (types.ts isBatchFinished) in Lua: returns 1 when the batch has just become
 * finished (producer done, every line recorded) and stamps finishedAt; HSETNX makes that happen for
 * one write only, so a batch is announced once.
 */
const FINISH_IF_DONE = `
local function finishIfDone(metaKey, nowIso)
  if redis.call('HGET', metaKey, 'producerDone') ~= '1' then return 0 end
  local expected = tonumber(redis.call('HGET', metaKey, 'total') or '-1')
  local recorded = tonumber(redis.call('HGET', metaKey, 'recorded') or '0')
  if expected >= 0 and recorded >= expected and redis.call('HSETNX', metaKey, 'finishedAt', nowIso) == 1 then
    return 1
  end
  return 0
end`;

/**
 * Stores (or replaces) one record, moves the counts and indexes of the record it replaces, and
 * runs the finished rule. KEYS: the batch's records / idx / meta hashes, the tx hash, the batches
 * ZSET (keys.ts). `recordJson` is stored as is; `idxJson` is `[status, verdict, transactionId,
 * subject, failure]` (what a later replacement must undo, keys.ts; an idx entry written before
 * `failure` was kept has 4 items); `failure` is records.ts failureKey; `subjectScore` is finishedAt in ms (now when
 * unparsable); `member` is `batch\nline` (keys.ts recordMember).
 * Returns `{created, finished}`: created 1 when the line had no record (0 when this replaced one),
 * finished 1 when this put finished the batch.
 */
export const PUT_SCRIPT = script(
  ['recordsKey', 'idxKey', 'metaKey', 'txKey', 'batchesKey'],
  [
    'batch',
    'line',
    'recordJson',
    'idxJson',
    'status',
    'verdict',
    'transactionId',
    'subject',
    'failure',
    'subjectScore',
    'member',
    'subjectKeyPrefix',
    'nowMs',
    'nowIso',
  ],
  `${FINISH_IF_DONE}

local created = 1
local old = redis.call('HGET', idxKey, line)
if old then
  created = 0
  local o = cjson.decode(old)
  local oStatus, oVerdict, oTx, oSubject, oFailure = o[1], o[2], o[3], o[4], o[5]
  if oStatus ~= '' then redis.call('HINCRBY', metaKey, 'status:' .. oStatus, -1) end
  if oVerdict ~= '' then redis.call('HINCRBY', metaKey, 'verdict:' .. oVerdict, -1) end
  if oFailure and oFailure ~= '' then redis.call('HINCRBY', metaKey, 'failed:' .. oFailure, -1) end
  if oTx ~= '' and oTx ~= transactionId and redis.call('HGET', txKey, oTx) == member then
    redis.call('HDEL', txKey, oTx)
  end
  if oSubject ~= '' and oSubject ~= subject then
    redis.call('ZREM', subjectKeyPrefix .. oSubject, member)
  end
else
  redis.call('HINCRBY', metaKey, 'recorded', 1)
end

redis.call('HSET', recordsKey, line, recordJson)
redis.call('HSET', idxKey, line, idxJson)
redis.call('HINCRBY', metaKey, 'status:' .. status, 1)
if verdict ~= '' then redis.call('HINCRBY', metaKey, 'verdict:' .. verdict, 1) end
if failure ~= '' then redis.call('HINCRBY', metaKey, 'failed:' .. failure, 1) end
if transactionId ~= '' then redis.call('HSET', txKey, transactionId, member) end
if subject ~= '' then redis.call('ZADD', subjectKeyPrefix .. subject, subjectScore, member) end

local seen = tonumber(redis.call('HGET', metaKey, 'maxRecordedLine') or '0')
if tonumber(line) > seen then redis.call('HSET', metaKey, 'maxRecordedLine', line) end

if redis.call('HSETNX', metaKey, 'createdAt', nowIso) == 1 then
  redis.call('ZADD', batchesKey, 'NX', nowMs, batch)
end
return { created, finishIfDone(metaKey, nowIso) }
`,
);

/** Registers a batch: keeps the first createdAt, records the latest manifest, marks the producer as running again. */
export const BEGIN_BATCH_SCRIPT = script(
  ['metaKey', 'batchesKey'],
  ['batch', 'manifest', 'nowMs', 'nowIso'],
  `
redis.call('HSETNX', metaKey, 'createdAt', nowIso)
redis.call('ZADD', batchesKey, 'NX', nowMs, batch)
if manifest ~= '' then redis.call('HSET', metaKey, 'manifest', manifest) end
redis.call('HSET', metaKey, 'producerDone', '0')
return 1
`,
);

/** Marks the producer done with its counts; returns 1 when that finished the batch (see FINISH_IF_DONE). */
export const FINISH_BATCH_SCRIPT = script(
  ['metaKey'],
  ['total', 'maxLine', 'nowIso'],
  `${FINISH_IF_DONE}
redis.call('HSET', metaKey, 'producerDone', '1', 'total', total, 'maxLine', maxLine)
return finishIfDone(metaKey, nowIso)
`,
);
