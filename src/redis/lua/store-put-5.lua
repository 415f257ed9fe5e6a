-- Stores (or replaces) one record, moves the counts and indexes of the record it replaces, and runs
-- the finished rule, atomically: two workers writing the same (batch, line) at once still leave one
-- record and counts that add up.
--
-- KEYS: the batch's records / idx / meta hashes, the tx hash, the batches ZSET (src/redis/keys.ts).
-- ARGV: batch, line; recordJson (stored as is); idxJson `[status, verdict, transactionId, subject, failure]`
--   (what a later replacement must undo; an entry written before `failure` was kept has 4 items);
--   status, verdict, transactionId, subject, failure (src/store/records.ts failureKey) (`''` for null);
--   subjectScore (finishedAt in ms, now when unparsable); member (`batch\nline`); subjectKeyPrefix
--   (a subject key is built here: the old record's subject is only known here); nowMs, nowIso.
-- Returns {created, finished}: created 1 when the line had no record (0 when this replaced one),
--   finished 1 when this put finished the batch.
local recordsKey, idxKey, metaKey, txKey, batchesKey = unpack(KEYS)
local batch, line, recordJson, idxJson, status, verdict, transactionId, subject, failure, subjectScore, member, subjectKeyPrefix, nowMs, nowIso = unpack(ARGV)
--- @include "finish-if-done"

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
