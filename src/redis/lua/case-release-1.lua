-- Gives a claimed case back to the queue, when `reviewer` holds a live claim on it.
--
-- KEYS: the case hash.
-- ARGV: reviewer.
-- Returns 1 when released, else 0.
local caseKey = unpack(KEYS)
local reviewer = unpack(ARGV)

local f = redis.call('HMGET', caseKey, 'state', 'claimedBy', 'leaseUntil')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if f[1] ~= 'claimed' or f[2] ~= reviewer or (tonumber(f[3] or '') or 0) <= now then return 0 end
redis.call('HSET', caseKey, 'state', 'open', 'claimedBy', '', 'leaseUntil', '')
return 1
