-- Appends a decision to a case unless another reviewer's claim on it is live; ends the claim.
--
-- KEYS: the case hash, the case's decisions LIST, the queue ZSET, the decided ZSET.
-- ARGV: id, reviewer, decision, note, at (ISO 8601).
-- Returns `['ok', decision JSON]`, `['not-found']`, or `['claimed', holder, leaseUntilMs]`.
local caseKey, decisionsKey, queueKey, decidedKey = unpack(KEYS)
local id, reviewer, decision, note, at = unpack(ARGV)

if redis.call('EXISTS', caseKey) == 0 then return { 'not-found' } end
local f = redis.call('HMGET', caseKey, 'state', 'claimedBy', 'leaseUntil', 'batch', 'subject', 'seq')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(f[3] or '') or 0
if f[1] == 'claimed' and lease > now and f[2] ~= reviewer then return { 'claimed', f[2], tostring(lease) } end
local seq = redis.call('HINCRBY', caseKey, 'decisions', 1)
local json = cjson.encode({ id = id .. '#' .. seq, caseId = id, seq = seq, batch = f[4], subject = f[5], decision = decision, note = note, reviewer = reviewer, at = at })
redis.call('RPUSH', decisionsKey, json)
redis.call('HSET', caseKey, 'state', 'decided', 'claimedBy', '', 'leaseUntil', '', 'decision', decision, 'decidedBy', reviewer, 'decidedAt', at)
redis.call('ZREM', queueKey, id)
redis.call('ZADD', decidedKey, tonumber(f[6]), id)
return { 'ok', json }
