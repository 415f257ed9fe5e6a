-- The batch's gate, then the line's counter, in one round trip at the moment a call leaves: refuses
-- a worker on another store, a cancelled or paused batch, or a call past a cap — a spend cap also
-- refuses a vendor the batch has no price for — else counts the call to the batch and to the line.
--
-- KEYS: the batch's calls hash (src/redis/keys.ts callsKey).
-- ARGV: lineField (the line's counter; `''`: none, the PostgreSQL ledger counts lines in its own
--   table), vendor (the call's), store (the worker's store identity), then the list
--   `fallbackPrices` (see includes/batch-totals.lua).
-- Returns {calls, possiblyBilled} of the line ({1, 0} without a line field), or a refusal {code}:
--   -1 calls cap, -2 spend cap, -3 paused, -4 cancelled, -5 another store.
local callsKey = unpack(KEYS)
local lineField, vendor, store = unpack(ARGV)
local fallbackPrices = { unpack(ARGV, 4) }
--- @include "batch-totals"

local recorded = redis.call('HGET', callsKey, 'store')
if recorded and recorded ~= store then return {-5} end
local state = redis.call('HGET', callsKey, 'state')
if state == 'cancelled' then return {-4} end
if state == 'paused' then return {-3} end
local paid, spend = totals()
local price = priceOf(vendor)
local capCalls = tonumber(redis.call('HGET', callsKey, 'cap:calls') or '-1')
if capCalls >= 0 and paid + 1 > capCalls then
  redis.call('HSET', callsKey, 'held', 'calls')
  return {-1}
end
local capSpend = tonumber(redis.call('HGET', callsKey, 'cap:spend') or '-1')
if capSpend >= 0 and (price == nil or spend + price > capSpend) then
  redis.call('HSET', callsKey, 'held', 'spend')
  return {-2}
end
redis.call('HINCRBY', callsKey, 'paid:' .. vendor, 1)
redis.call('HINCRBY', callsKey, 'paid', 1)
redis.call('HINCRBY', callsKey, 'paid@' .. store, 1)
if price then redis.call('HINCRBY', callsKey, 'spend', price) end

if lineField == '' then return {1, 0} end
local calls = redis.call('HINCRBY', callsKey, lineField, 1)
local pb = 0
if calls > 1 then pb = tonumber(redis.call('HGET', callsKey, lineField .. ':pb') or '0') end
return {calls, pb}
