-- `--dedupe`: claims a vendor call for a line, unless another line's claim is fresh or the outcome
-- is there. A claim older than `staleMs` (the job lock: its worker is gone) is taken over.
--
-- KEYS: the batch's shared answers hash (src/redis/keys.ts dedupeKey).
-- ARGV: digest (the call's), line (the claiming line), staleMs.
-- Returns 'claimed' (this line pays), 'wait' (another line is paying), or the outcome JSON.
local dedupeKey = unpack(KEYS)
local digest, line, staleMs = unpack(ARGV)

local v = redis.call('HGET', dedupeKey, digest)
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if v then
  local owner, at = string.match(v, '^pending (%d+) (%d+)$')
  if not owner then return v end
  if owner ~= line and ms - tonumber(at) < tonumber(staleMs) then return 'wait' end
end
redis.call('HSET', dedupeKey, digest, 'pending ' .. line .. ' ' .. ms)
return 'claimed'
