-- Removes one record (`forget`), its counts and its transaction-id entry (if it still owns it),
-- atomically, as a put moves them.
--
-- KEYS: the batch's records / idx / meta hashes, the tx hash.
-- ARGV: line, member (`batch\nline`).
-- Returns 1 when there was a record, else 0.
local recordsKey, idxKey, metaKey, txKey = unpack(KEYS)
local line, member = unpack(ARGV)

local old = redis.call('HGET', idxKey, line)
if not old then return 0 end
local o = cjson.decode(old)
if o[1] ~= '' then redis.call('HINCRBY', metaKey, 'status:' .. o[1], -1) end
if o[2] ~= '' then redis.call('HINCRBY', metaKey, 'verdict:' .. o[2], -1) end
if o[5] and o[5] ~= '' then redis.call('HINCRBY', metaKey, 'failed:' .. o[5], -1) end
if o[3] ~= '' and redis.call('HGET', txKey, o[3]) == member then redis.call('HDEL', txKey, o[3]) end
redis.call('HINCRBY', metaKey, 'recorded', -1)
redis.call('HDEL', recordsKey, line)
redis.call('HDEL', idxKey, line)
return 1
