-- The clock the quota scripts use, ms: the caller's (`clockMs`, an injected clock) or, when it is
-- `''`, Redis TIME, so workers on machines with skewed clocks still agree.
local function now_ms()
  if clockMs ~= '' then return tonumber(clockMs) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
