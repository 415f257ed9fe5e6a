-- Records a batch's terms unless it has them (a batch's prices are its own from its first enqueue).
--
-- KEYS: the batch's calls hash.
-- ARGV: store (identity of the store it is enqueued into), currency, then the list `prices`:
--   (vendor, price in micro-units) pairs of the priced vendors.
-- Returns {1} recorded, {0} the batch had its terms already (they stand), {-1, store} the batch was
--   enqueued into another store.
local callsKey = unpack(KEYS)
local store, currency = unpack(ARGV)
local prices = { unpack(ARGV, 3) }

local recorded = redis.call('HGET', callsKey, 'store')
if recorded and recorded ~= store then return {-1, recorded} end
if redis.call('HEXISTS', callsKey, 'currency') == 1 then return {0} end
redis.call('HSET', callsKey, 'store', store, 'currency', currency)
for i = 1, #prices, 2 do redis.call('HSET', callsKey, 'price:' .. prices[i], prices[i + 1]) end
return {1}
