-- Marks the producer done with its counts, then runs the finished rule.
--
-- KEYS: the batch's meta hash.
-- ARGV: total (lines of the manifest), maxLine, nowIso.
-- Returns 1 when this finished the batch, else 0.
local metaKey = unpack(KEYS)
local total, maxLine, nowIso = unpack(ARGV)
--- @include "finish-if-done"

redis.call('HSET', metaKey, 'producerDone', '1', 'total', total, 'maxLine', maxLine)
return finishIfDone(metaKey, nowIso)
