-- Registers a batch: keeps the first createdAt, records the latest manifest, marks the producer as
-- running again.
--
-- KEYS: the batch's meta hash, the batches ZSET.
-- ARGV: batch, manifest (`''`: keep the one recorded), nowMs, nowIso.
-- Returns 1.
local metaKey, batchesKey = unpack(KEYS)
local batch, manifest, nowMs, nowIso = unpack(ARGV)

redis.call('HSETNX', metaKey, 'createdAt', nowIso)
redis.call('ZADD', batchesKey, 'NX', nowMs, batch)
if manifest ~= '' then redis.call('HSET', metaKey, 'manifest', manifest) end
redis.call('HSET', metaKey, 'producerDone', '0')
return 1
