-- A numeric field of the vendor's admission hash (`stateKey`), or `default` when absent.
local function num(field, default)
  local v = redis.call('HGET', stateKey, field)
  if v then return tonumber(v) end
  return default
end
