-- Sets one field of a hash to a new value only while it still holds the value the caller read
-- (a compare-and-set: a concurrent writer's change is never overwritten).
--
-- KEYS: the hash.
-- ARGV: field, the value read, the new value.
-- Returns 1 when set, else 0 (the field changed since: read it again).
local hashKey = unpack(KEYS)
local field, expected, value = unpack(ARGV)

if redis.call('HGET', hashKey, field) ~= expected then return 0 end
redis.call('HSET', hashKey, field, value)
return 1
