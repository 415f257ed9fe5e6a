-- The vendor answered 429: hold every call of this vendor, fleet-wide.
-- A 429 within an ongoing pause only extends it to its Retry-After; a new pause doubles the default
-- delay when it follows the previous one within 30 s. auto: the rate drops once per pause.
--
-- KEYS: the vendor's admission hash (fields in quota-acquire-1.lua).
-- ARGV: clockMs (`''`: Redis TIME), retryAfterMs (`''` when the vendor sent none), baseMs, maxMs,
--   auto (0|1), autoMin (calls/s).
-- Returns {newPause (0|1), holdMs, pauses, refused, rate}.
local stateKey = unpack(KEYS)
local clockMs, retryAfterMs, baseMs, maxMs, auto, autoMin = unpack(ARGV)
--- @include "quota-now"
--- @include "quota-num"

local now = now_ms()
local retryAfter = tonumber(retryAfterMs)
local base = tonumber(baseMs)
local maxMs = tonumber(maxMs)
local auto = auto == '1'
local autoMin = tonumber(autoMin)
local hold = num('hold', 0)
local refused = redis.call('HINCRBY', stateKey, 'refused', 1)
-- Not auto: a 429 at our own pace means the vendor's clock or path jitters more than our guard:
-- widen it (doubling, from 20 ms up to 200 ms per window), for the whole fleet.
if not auto then
  local gx = num('gx', 0)
  gx = gx * 2
  if gx < 20 then gx = 20 end
  if gx > 200 then gx = 200 end
  redis.call('HSET', stateKey, 'gx', tostring(gx), 'gxAt', tostring(now))
end
local pauses = num('pauses', 0)
local rate = num('ar', 0)
local newPause = 0
if hold <= now then
  newPause = 1
  local streak = 1
  if now - num('holdEnd', -1e15) < 30000 then streak = num('streak', 0) + 1 end
  local ms = retryAfter
  if ms == nil then
    ms = base * 2 ^ (streak - 1)
    if ms > maxMs then ms = maxMs end
  end
  hold = now + ms
  pauses = pauses + 1
  redis.call('HSET', stateKey, 'hold', tostring(hold), 'holdEnd', tostring(hold), 'streak', streak, 'pauses', pauses)
  if auto and rate > 0 then
    redis.call('HSET', stateKey, 'am', tostring(rate))
    rate = rate * 0.85
    if rate < autoMin then rate = autoMin end
    redis.call('HSET', stateKey, 'ar', tostring(rate))
  end
elseif retryAfter ~= nil and now + retryAfter > hold then
  hold = now + retryAfter
  redis.call('HSET', stateKey, 'hold', tostring(hold), 'holdEnd', tostring(hold))
end
-- After the pause, calls start again one by one, not all at once.
if num('tat', 0) < hold then redis.call('HSET', stateKey, 'tat', tostring(hold)) end
return {newPause, tostring(hold - now), pauses, refused, tostring(rate)}
