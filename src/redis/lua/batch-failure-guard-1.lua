-- Counts one finished line in its batch's failure-rate window (src/money/failure-guard.ts) and
-- pauses the batch when more than rate x window of its last lines failed on the vendor's side.
--
-- KEYS: the batch's calls hash.
-- ARGV: outcome (`1` failed, `0` answered), code (its cause), nowIso.
-- Returns {0} (no guard, or not tripped) or {1, failed, seen, ratePpm, window} when this line
--   paused the batch (once: a paused or cancelled batch is left as it is).
local callsKey = unpack(KEYS)
local outcome, code, nowIso = unpack(ARGV)

local rate = tonumber(redis.call('HGET', callsKey, 'guard:rate') or '')
if not rate then return {0} end
local n = tonumber(redis.call('HGET', callsKey, 'guard:window') or '100')
local seq = redis.call('HINCRBY', callsKey, 'guard:seq', 1)
local slot = 'guard:' .. (seq % n)
local failed = tonumber(redis.call('HGET', callsKey, 'guard:failed') or '0')
if redis.call('HGET', callsKey, slot) == '1' then failed = failed - 1 end
if outcome == '1' then failed = failed + 1 end
redis.call('HSET', callsKey, slot, outcome, 'guard:failed', failed)
if outcome ~= '1' or failed * 1000000 <= rate * n then return {0} end
if redis.call('HEXISTS', callsKey, 'state') == 1 then return {0} end
local seen = math.min(seq, n)
redis.call('HSET', callsKey, 'state', 'paused', 'pause:by', 'failure-rate', 'pause:failed', failed, 'pause:seen', seen, 'pause:code', code, 'pause:at', nowIso)
return {1, failed, seen, rate, n}
