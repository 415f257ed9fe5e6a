/**
 * The admission control's Redis scripts. All state of one vendor lives in ONE hash (KEYS[1]), so
 * every script touches a single key: atomic for the whole fleet, and valid on Redis Cluster.
 *
 * Hash fields:
 *   tat              GCRA theoretical arrival time, ms (the next free slot when calls are spaced)
 *   warm             until then, calls are spaced 20% wider (the first window after an idle spell)
 *   hold             every call waits until this time, ms (set by a 429)
 *   streak, pauses, refused, holdEnd   429 bookkeeping (exponential default, counts for logs/status)
 *   gx, gxAt         extra guard per window learned from 429s (ms), and when it was last raised
 *   ar, am, ss       auto: learned rate (calls/s), rate of the last 429 (calls/s), slow start flag
 *   granted          permits given since the hash was created
 *   <u>:b<i>, <u>:n<i>   rolling window <u>: bucket number and count in ring slot i (64 slots)
 *   <u>:p, <u>:n     calendar window <u>: period number and count
 *
 * Times come from the caller (an injected clock) or, when ARGV[1] is empty, from Redis TIME, so
 * workers on machines with skewed clocks still agree.
 */

const NOW = `
local function now_ms()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(field, default)
  local v = redis.call('HGET', KEYS[1], field)
  if v then return tonumber(v) end
  return default
end
`;

/**
 * ACQUIRE — take one permit.
 * ARGV: now, horizonMs, intervalMs (spacing; 0 = none), burst, auto (0|1), autoMax (calls/s; 0 =
 * none), autoInitial (calls/s), nCounted, then per counted window: unit, max, durationMs, calendar;
 * last, the spaced window's duration (ms) and count.
 * After an idle spell, the first window's calls are spaced 20% wider: the first calls of a worker
 * travel slower (new connections, cold code), and a late first call must not share the vendor's
 * window with an on-time call one window later.
 * Returns {1, delayMs, slotMs, tat, tatBefore} — granted for a slot delayMs from now (≤ horizon);
 * the rest is what RELEASE needs to give the permit back — or
 * {0, waitMs, reason, resumeAtMs, unit, max}: reason `hold` (429 pause), `window` (a counted
 * window is spent), `spacing` (the next free slot is beyond the horizon).
 */
export const ACQUIRE = `${NOW}
local now = now_ms()
local horizon = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local auto = ARGV[5] == '1'
local autoMax = tonumber(ARGV[6])
local nCounted = tonumber(ARGV[8])

local hold = num('hold', 0)
if hold > now then
  return {0, tostring(hold - now), 'hold', tostring(hold), '', ''}
end

local rate = 0
if auto then
  rate = num('ar', tonumber(ARGV[7]))
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
  local spanMs = tonumber(ARGV[9 + nCounted * 4]) or 1000
  local spanMax = tonumber(ARGV[10 + nCounted * 4]) or 0
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
      redis.call('HSET', KEYS[1], 'warm', tostring(warm))
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
  local unit = ARGV[9 + i * 4]
  local max = tonumber(ARGV[10 + i * 4])
  local dur = tonumber(ARGV[11 + i * 4])
  local calendar = ARGV[12 + i * 4] == '1'
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
    redis.call('HSET', KEYS[1], w[2] .. ':p', w[3], w[2] .. ':n', w[4] + 1)
  else
    local s = w[3] % 64
    if num(w[2] .. ':b' .. s, -1) ~= w[3] then
      redis.call('HSET', KEYS[1], w[2] .. ':b' .. s, w[3], w[2] .. ':n' .. s, 1)
    else
      redis.call('HINCRBY', KEYS[1], w[2] .. ':n' .. s, 1)
    end
  end
end
local tatNew, tatPrev = '', ''
if interval > 0 then
  tatNew = tostring(tat + step)
  tatPrev = tostring(tat)
  redis.call('HSET', KEYS[1], 'tat', tatNew)
end
redis.call('HINCRBY', KEYS[1], 'granted', 1)

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
  redis.call('HSET', KEYS[1], 'ar', tostring(rate))
elseif auto and redis.call('HEXISTS', KEYS[1], 'ar') == 0 then
  redis.call('HSET', KEYS[1], 'ar', tostring(rate))
end
return {1, tostring(slot - now), tostring(slot), tatNew, tatPrev}
`;

/**
 * REFUSED — the vendor answered 429: hold every call of this vendor.
 * ARGV: now, retryAfterMs ('' when the vendor sent none), baseMs, maxMs, auto (0|1), autoMin.
 * A 429 within an ongoing pause only extends it to its Retry-After; a new pause doubles the default
 * delay when it follows the previous one within 30 s. auto: the rate drops once per pause.
 * Returns {newPause (0|1), holdMs, pauses, refused, rate}.
 */
export const REFUSED = `${NOW}
local now = now_ms()
local retryAfter = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local maxMs = tonumber(ARGV[4])
local auto = ARGV[5] == '1'
local autoMin = tonumber(ARGV[6])
local hold = num('hold', 0)
local refused = redis.call('HINCRBY', KEYS[1], 'refused', 1)
-- Not auto: a 429 at our own pace means the vendor's clock or path jitters more than our guard:
-- widen it (doubling, from 20 ms up to 200 ms per window), for the whole fleet.
if ARGV[5] ~= '1' then
  local gx = num('gx', 0)
  gx = gx * 2
  if gx < 20 then gx = 20 end
  if gx > 200 then gx = 200 end
  redis.call('HSET', KEYS[1], 'gx', tostring(gx), 'gxAt', tostring(now))
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
  redis.call('HSET', KEYS[1], 'hold', tostring(hold), 'holdEnd', tostring(hold), 'streak', streak, 'pauses', pauses)
  if auto and rate > 0 then
    redis.call('HSET', KEYS[1], 'am', tostring(rate))
    rate = rate * 0.85
    if rate < autoMin then rate = autoMin end
    redis.call('HSET', KEYS[1], 'ar', tostring(rate))
  end
elseif retryAfter ~= nil and now + retryAfter > hold then
  hold = now + retryAfter
  redis.call('HSET', KEYS[1], 'hold', tostring(hold), 'holdEnd', tostring(hold))
end
-- After the pause, calls start again one by one, not all at once.
if num('tat', 0) < hold then redis.call('HSET', KEYS[1], 'tat', tostring(hold)) end
return {newPause, tostring(hold - now), pauses, refused, tostring(rate)}
`;

/** NOW — the clock the scripts use (Redis TIME, or ARGV[1]). Returns ms as a string. */
export const CLOCK = `${NOW}
return tostring(now_ms())
`;

/**
 * LATE — a granted call is being sent `ARGV[2]` ms after its slot (a stalled event loop): push the
 * next free slot back as much, so the call one window later cannot land in the same vendor window.
 */
export const LATE = `
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
redis.call('HSET', KEYS[1], 'tat', tostring(tat + tonumber(ARGV[1])))
return 1
`;

/**
 * RELEASE — give back a permit whose call was not sent (its batch refused it at the last moment).
 * ARGV: tat as ACQUIRE left it and as it was before ('' when calls are not spaced), the permit's
 * slot (ms), nCounted, then per counted window: unit, durationMs, calendar.
 * The spacing slot is given back only while it is still the last one booked: handing out a slot
 * between two booked ones would put two calls closer together than the quota allows. A counted
 * window's call is given back while the window is the one it was booked in.
 */
export const RELEASE = `
local function num(field, default)
  local v = redis.call('HGET', KEYS[1], field)
  if v then return tonumber(v) end
  return default
end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'tat') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'tat', ARGV[2])
end
local slot = tonumber(ARGV[3])
local nCounted = tonumber(ARGV[4])
for i = 0, nCounted - 1 do
  local unit = ARGV[5 + i * 3]
  local dur = tonumber(ARGV[6 + i * 3])
  if ARGV[7 + i * 3] == '1' then
    if num(unit .. ':p', -1) == math.floor(slot / dur) and num(unit .. ':n', 0) > 0 then
      redis.call('HINCRBY', KEYS[1], unit .. ':n', -1)
    end
  else
    local cur = math.floor(slot / (dur / 60))
    local s = cur % 64
    if num(unit .. ':b' .. s, -1) == cur and num(unit .. ':n' .. s, 0) > 0 then
      redis.call('HINCRBY', KEYS[1], unit .. ':n' .. s, -1)
    end
  end
end
redis.call('HINCRBY', KEYS[1], 'granted', -1)
return 1
`;
