-- Marks a batch as a schedule's newest firing. Moves `lastBatch` only forward in scheduled time, so
-- a late repeat of an older firing never hides the newer batch.
--
-- KEYS: the schedule's state hash (src/redis/keys.ts scheduleStateKey).
-- ARGV: batch, scheduledMs, firedAt (ISO 8601).
-- Returns 1 when it moved, else 0.
local stateKey = unpack(KEYS)
local batch, scheduledMs, firedAt = unpack(ARGV)

local prev = tonumber(redis.call('HGET', stateKey, 'lastScheduledAt') or '-1')
if tonumber(scheduledMs) < prev then return 0 end
redis.call('HSET', stateKey, 'lastBatch', batch, 'lastScheduledAt', scheduledMs, 'lastFiredAt', firedAt)
return 1
