-- Releases a lock key taken with SET NX PX, when `token` still holds it (a holder whose lease lapsed
-- must not release the next holder's lock).
--
-- KEYS: the lock key.
-- ARGV: token.
-- Returns 1 when released, else 0.
local lockKey = unpack(KEYS)
local token = unpack(ARGV)

if redis.call('GET', lockKey) == token then return redis.call('DEL', lockKey) end
return 0
