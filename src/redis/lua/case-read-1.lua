-- Reads cases and Redis's clock together (a claim is live while its lease is after that clock).
--
-- KEYS: the all ZSET (for the slot).
-- ARGV: the case-hash key prefix, then the ids.
-- Returns `[nowMs, fields of id 1, fields of id 2, …]`, each fields an HGETALL reply (empty when none).
local allKey = unpack(KEYS)
local casePrefix = unpack(ARGV)
local ids = { unpack(ARGV, 2) }

local t = redis.call('TIME')
local out = { tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) }
for i, id in ipairs(ids) do
  out[i + 1] = redis.call('HGETALL', casePrefix .. id)
end
return out
