-- Whether each of a queue's job keys exists, in one round trip (the producer's "already queued").
--
-- KEYS: the BullMQ queue's meta key (only routes the call on a Cluster; the job keys share its slot).
-- ARGV: the list `jobKeys`.
-- Returns 1/0 per job key.
local metaKey = unpack(KEYS)
local jobKeys = ARGV

local out = {}
for i = 1, #jobKeys do out[i] = redis.call('EXISTS', jobKeys[i]) end
return out
