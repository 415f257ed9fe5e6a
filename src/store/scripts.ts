/**
 * Lua scripts of the Redis result store. Run atomically by Redis, so two workers writing the same
 * (batch, line) at once still leave one record and counts that add up.
 *
 * Subject keys are built inside the script from a prefix passed as an argument (the old record's
 * subject is only known there). That is fine on a single Redis; on Redis Cluster it needs a
 * hash-tagged prefix such as `{rescreen}` so every key lands in one slot, as BullMQ needs anyway.
 */

/**
 * Sets `finished` to 2 when the batch has just become finished: producer done and every line
 * recorded, first time only (HSETNX finishedAt), so a batch is announced once.
 * Expects `meta` (the meta key) and ARGV[13] (now, ISO) in scope.
 */
const FINISHED_CHECK = `
local finished = 0
if redis.call('HGET', meta, 'producerDone') == '1' then
  local total = tonumber(redis.call('HGET', meta, 'total') or '-1')
  local recorded = tonumber(redis.call('HGET', meta, 'recorded') or '0')
  if total >= 0 and recorded >= total and redis.call('HSETNX', meta, 'finishedAt', ARGV[13]) == 1 then
    finished = 2
  end
end`;

/** Number of KEYS the put script takes. */
export const PUT_KEY_COUNT = 5;

/**
 * KEYS: records, idx, meta, tx, batches.
 * ARGV: line, recordJson, idxJson, status, verdict|'', transactionId|'', subject|'', finishedAtMs,
 *       member, subjectKeyPrefix, batch, nowMs, nowIso.
 * Returns 1 when the record is new, 0 when it replaced one, plus 2 when this put finished the batch
 * (the producer is done, every line has a record, and no earlier write saw it finished).
 */
export const PUT_SCRIPT = `
local line = ARGV[1]
local status, verdict, tx, subject = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local member, subjectPrefix = ARGV[9], ARGV[10]
local meta = KEYS[3]

local created = 1
local old = redis.call('HGET', KEYS[2], line)
if old then
  created = 0
  local o = cjson.decode(old)
  local oStatus, oVerdict, oTx, oSubject = o[1], o[2], o[3], o[4]
  if oStatus ~= '' then redis.call('HINCRBY', meta, 'status:' .. oStatus, -1) end
  if oVerdict ~= '' then redis.call('HINCRBY', meta, 'verdict:' .. oVerdict, -1) end
  if oTx ~= '' and oTx ~= tx and redis.call('HGET', KEYS[4], oTx) == member then
    redis.call('HDEL', KEYS[4], oTx)
  end
  if oSubject ~= '' and oSubject ~= subject then
    redis.call('ZREM', subjectPrefix .. oSubject, member)
  end
else
  redis.call('HINCRBY', meta, 'recorded', 1)
end

redis.call('HSET', KEYS[1], line, ARGV[2])
redis.call('HSET', KEYS[2], line, ARGV[3])
redis.call('HINCRBY', meta, 'status:' .. status, 1)
if verdict ~= '' then redis.call('HINCRBY', meta, 'verdict:' .. verdict, 1) end
if tx ~= '' then redis.call('HSET', KEYS[4], tx, member) end
if subject ~= '' then redis.call('ZADD', subjectPrefix .. subject, ARGV[8], member) end

local seen = tonumber(redis.call('HGET', meta, 'maxRecordedLine') or '0')
if tonumber(line) > seen then redis.call('HSET', meta, 'maxRecordedLine', line) end

if redis.call('HSETNX', meta, 'createdAt', ARGV[13]) == 1 then
  redis.call('ZADD', KEYS[5], 'NX', ARGV[12], ARGV[11])
end
${FINISHED_CHECK}
return created + finished
`;

/**
 * KEYS: meta, batches. ARGV: batch, nowMs, nowIso, manifest|''.
 * Keeps the first createdAt; records the latest manifest; marks the producer as running again.
 */
export const BEGIN_BATCH_SCRIPT = `
redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'manifest', ARGV[4]) end
redis.call('HSET', KEYS[1], 'producerDone', '0')
return 1
`;

/**
 * KEYS: meta. ARGV: total, maxLine, (unused), (unused), ..., ARGV[13] = nowIso.
 * Marks the producer done with its counts; returns 2 when that finished the batch (see FINISHED_CHECK).
 */
export const FINISH_BATCH_SCRIPT = `
local meta = KEYS[1]
redis.call('HSET', meta, 'producerDone', '1', 'total', ARGV[1], 'maxLine', ARGV[2])
${FINISHED_CHECK}
return finished
`;
