-- A granted call is being sent `lateMs` after its slot (a stalled event loop): push the next free
-- slot back as much, so the call one window later cannot land in the same vendor window.
--
-- KEYS: the vendor's admission hash.
-- ARGV: lateMs.
-- Returns 1.
local stateKey = unpack(KEYS)
local lateMs = unpack(ARGV)

local tat = tonumber(redis.call('HGET', stateKey, 'tat') or '0')
redis.call('HSET', stateKey, 'tat', tostring(tat + tonumber(lateMs)))
return 1
