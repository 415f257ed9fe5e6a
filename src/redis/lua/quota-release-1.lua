-- Gives back a permit whose call was not sent (its batch refused it at the last moment).
-- The spacing slot is given back only while it is still the last one booked: handing out a slot
-- between two booked ones would put two calls closer together than the quota allows. A counted
-- window's call is given back while the window is the one it was booked in.
--
-- KEYS: the vendor's admission hash.
-- ARGV: tat as quota-acquire left it and as it was before (`''` when calls are not spaced), the
--   permit's slot (ms), then the list `windows`: per counted window, unit, durationMs, calendar (0|1).
-- Returns 1.
local stateKey = unpack(KEYS)
local tatAfter, tatBefore, slotMs = unpack(ARGV)
local windows = { unpack(ARGV, 4) }
--- @include "quota-num"

if tatAfter ~= '' and redis.call('HGET', stateKey, 'tat') == tatAfter then
  redis.call('HSET', stateKey, 'tat', tatBefore)
end
local slot = tonumber(slotMs)
for i = 0, #windows / 3 - 1 do
  local unit = windows[1 + i * 3]
  local dur = tonumber(windows[2 + i * 3])
  if windows[3 + i * 3] == '1' then
    if num(unit .. ':p', -1) == math.floor(slot / dur) and num(unit .. ':n', 0) > 0 then
      redis.call('HINCRBY', stateKey, unit .. ':n', -1)
    end
  else
    local cur = math.floor(slot / (dur / 60))
    local s = cur % 64
    if num(unit .. ':b' .. s, -1) == cur and num(unit .. ':n' .. s, 0) > 0 then
      redis.call('HINCRBY', stateKey, unit .. ':n' .. s, -1)
    end
  end
end
redis.call('HINCRBY', stateKey, 'granted', -1)
return 1
