-- Takes one permit for a call to the vendor: GCRA virtual scheduling (calls spaced evenly across
-- the fleet) plus counted budget windows, in one script on one key.
--
-- The vendor's admission hash (src/redis/keys.ts quotaStateKey) holds, in fields:
--   tat              GCRA theoretical arrival time, ms (the next free slot when calls are spaced)
--   warm             until then, calls are spaced 20% wider (the first window after an idle spell)
--   hold             every call waits until this time, ms (set by a 429)
--   streak, pauses, refused, holdEnd   429 bookkeeping (exponential default, counts for logs/status)
--   gx, gxAt         extra guard per window learned from 429s (ms), and when it was last raised
--   ar, am, ss       auto: learned rate (calls/s), rate of the last 429 (calls/s), slow start flag
--   granted          permits given since the hash was created
--   <u>:b<i>, <u>:n<i>   rolling window <u>: bucket number and count in ring slot i (64 slots)
--   <u>:p, <u>:n     calendar window <u>: period number and count
--
-- KEYS: the vendor's admission hash.
-- ARGV: clockMs (`''`: Redis TIME), horizonMs, intervalMs (spacing; 0 = none), burst, auto (0|1),
--   autoMax (calls/s; 0 = none), autoInitial (calls/s), spanMs and spanMax (the spaced window's
--   duration and count), then the list `windows`: per counted window, unit, max, durationMs,
--   calendar (0|1).
-- After an idle spell, the first window's calls are spaced 20% wider: the first calls of a worker
-- travel slower (new connections, cold code), and a late first call must not share the vendor's
-- window with an on-time call one window later.
-- Returns {1, delayMs, slotMs, tat, tatBefore} — granted for a slot delayMs from now (≤ horizon);
--   the rest is what quota-release needs to give the permit back — or
--   {0, waitMs, reason, resumeAtMs, unit, max}: reason `hold` (429 pause), `window` (a counted
--   window is spent), `spacing` (the next free slot is beyond the horizon).
local stateKey = unpack(KEYS)
local clockMs, horizonMs, intervalMs, burst, auto, autoMax, autoInitial, spanMs, spanMax = unpack(ARGV)
local windows = { unpack(ARGV, 10) }
--- @include "quota-now"
--- @include "quota-num"

local now = now_ms()
local horizon = tonumber(horizonMs)
local interval = tonumber(intervalMs)
local burst = tonumber(burst)
local auto = auto == '1'
local autoMax = tonumber(autoMax)
local nCounted = #windows / 4

local hold = num('hold', 0)
if hold > now then
  return {0, tostring(hold - now), 'hold', tostring(hold), '', ''}
end

local rate = 0
if auto then
  rate = num('ar', tonumber(autoInitial))
  if autoMax > 0 and rate > autoMax then rate = autoMax end
  local autoInterval = 1000 / rate
  if autoInterval > interval then interval = autoInterval end
end

-- GCRA (virtual scheduling): the slot is the later of now and tat - tau.
local slot = now
local tatOld = num('tat', 0)
local tat = tatOld
local step = interval
if interval > 0 then
  local spanMs = tonumber(spanMs) or 1000
  local spanMax = tonumber(spanMax) or 0
  -- A 429 taught the fleet a wider guard (gx ms per window); it halves every 5 minutes without one.
  local gx = num('gx', 0)
  if gx > 0 and spanMax > 0 then
    gx = gx * 0.5 ^ ((now - num('gxAt', now)) / 300000)
    interval = interval + gx / spanMax
    step = interval
  end
  local warm = num('warm', 0)
  if tat < now then
    if tatOld < now - interval - 50 then
      warm = now + spanMs
      redis.call('HSET', stateKey, 'warm', tostring(warm))
    end
    tat = now
  end
  if tat < warm and burst == 1 then step = interval * 1.2 end
  local tau = (burst - 1) * interval
  slot = tat - tau
  if slot < now then slot = now end
  if slot - now > horizon then
    return {0, tostring(slot - now - horizon), 'spacing', tostring(slot), '', ''}
  end
end

-- Counted windows, checked at the slot's time; reservations already made count too.
local writes = {}
for i = 0, nCounted - 1 do
  local unit = windows[1 + i * 4]
  local max = tonumber(windows[2 + i * 4])
  local dur = tonumber(windows[3 + i * 4])
  local calendar = windows[4 + i * 4] == '1'
  if calendar then
    local period = math.floor(slot / dur)
    local count = 0
    if num(unit .. ':p', -1) == period then count = num(unit .. ':n', 0) end
    if count >= max then
      local resume = (period + 1) * dur
      return {0, tostring(resume - now), 'window', tostring(resume), unit, tostring(max)}
    end
    table.insert(writes, {'cal', unit, period, count})
  else
    local b = dur / 60
    local cur = math.floor(slot / b)
    local low = math.floor((slot - dur) / b)
    local count = 0
    local oldest = nil
    for s = 0, 63 do
      local bn = num(unit .. ':b' .. s, -1)
      if bn >= low then
        local n = num(unit .. ':n' .. s, 0)
        count = count + n
        if n > 0 and (oldest == nil or bn < oldest) then oldest = bn end
      end
    end
    if count >= max then
      local resume = (oldest + 1) * b + dur
      return {0, tostring(resume - now), 'window', tostring(resume), unit, tostring(max)}
    end
    table.insert(writes, {'roll', unit, cur})
  end
end

-- Granted: book the slot.
for _, w in ipairs(writes) do
  if w[1] == 'cal' then
    redis.call('HSET', stateKey, w[2] .. ':p', w[3], w[2] .. ':n', w[4] + 1)
  else
    local s = w[3] % 64
    if num(w[2] .. ':b' .. s, -1) ~= w[3] then
      redis.call('HSET', stateKey, w[2] .. ':b' .. s, w[3], w[2] .. ':n' .. s, 1)
    else
      redis.call('HINCRBY', stateKey, w[2] .. ':n' .. s, 1)
    end
  end
end
local tatNew, tatPrev = '', ''
if interval > 0 then
  tatNew = tostring(tat + step)
  tatPrev = tostring(tat)
  redis.call('HSET', stateKey, 'tat', tatNew)
end
redis.call('HINCRBY', stateKey, 'granted', 1)

-- auto: grow while the limiter binds (calls were waiting for slots), never while idle.
if auto and tatOld > now then
  local am = num('am', 0)
  if am == 0 then
    rate = rate + 0.25
  elseif rate < 0.97 * am then
    rate = rate + (0.97 * am - rate) / (2 * rate)
  else
    rate = rate + 0.0015 * am / rate
  end
  if autoMax > 0 and rate > autoMax then rate = autoMax end
  redis.call('HSET', stateKey, 'ar', tostring(rate))
elseif auto and redis.call('HEXISTS', stateKey, 'ar') == 0 then
  redis.call('HSET', stateKey, 'ar', tostring(rate))
end
return {1, tostring(slot - now), tostring(slot), tatNew, tatPrev}
