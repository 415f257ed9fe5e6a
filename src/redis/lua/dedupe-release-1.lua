-- `--dedupe`: releases a claim only if it is still this line's (a taken-over claim is someone
-- else's now), so the next line with this media makes the call.
--
-- KEYS: the batch's shared answers hash.
-- ARGV: digest, line.
-- Returns 1.
local dedupeKey = unpack(KEYS)
local digest, line = unpack(ARGV)

local v = redis.call('HGET', dedupeKey, digest)
if v and string.match(v, '^pending ' .. line .. ' ') then redis.call('HDEL', dedupeKey, digest) end
return 1
