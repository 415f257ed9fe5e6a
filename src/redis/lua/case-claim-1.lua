-- Claims the oldest case of the queue that is open or whose claim lapsed (on Redis's clock), for a
-- lease; atomic, so two reviewers never get the same case.
--
-- KEYS: the queue ZSET (or the batch's cases ZSET, for `--batch`).
-- ARGV: the case-hash key prefix, reviewer, leaseMs.
-- Returns `[id, nowMs]`, or `[]` when nothing is claimable.
local sourceKey = unpack(KEYS)
local casePrefix, reviewer, leaseMs = unpack(ARGV)

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = 0
while true do
  local ids = redis.call('ZRANGE', sourceKey, start, start + 199)
  if #ids == 0 then return {} end
  for _, id in ipairs(ids) do
    local f = redis.call('HMGET', casePrefix .. id, 'state', 'leaseUntil')
    local lease = tonumber(f[2] or '') or 0
    if f[1] == 'open' or (f[1] == 'claimed' and lease <= now) then
      redis.call('HSET', casePrefix .. id, 'state', 'claimed', 'claimedBy', reviewer, 'leaseUntil', now + tonumber(leaseMs))
      return { id, tostring(now) }
    end
  end
  start = start + 200
end
