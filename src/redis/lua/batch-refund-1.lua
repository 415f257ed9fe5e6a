-- Takes back a counted call that cost nothing: from the line (when a line field is given) and
-- from the batch's totals.
--
-- KEYS: the batch's calls hash.
-- ARGV: lineField (`''`: none), vendor, store (the worker's store identity), then the list
--   `fallbackPrices` (see includes/batch-totals.lua).
-- Returns 1.
local callsKey = unpack(KEYS)
local lineField, vendor, store = unpack(ARGV)
local fallbackPrices = { unpack(ARGV, 4) }
--- @include "batch-totals"

if lineField ~= '' then redis.call('HINCRBY', callsKey, lineField, -1) end
redis.call('HINCRBY', callsKey, 'paid:' .. vendor, -1)
if redis.call('HEXISTS', callsKey, 'paid') == 1 then
  redis.call('HINCRBY', callsKey, 'paid', -1)
  redis.call('HINCRBY', callsKey, 'paid@' .. store, -1)
  local price = priceOf(vendor)
  if price then redis.call('HINCRBY', callsKey, 'spend', -price) end
end
return 1
