-- Prices and running totals of a batch's calls hash (`callsKey`; fields in src/money/batch-budget.ts).
-- `fallbackPrices`: (vendor, price) pairs of every vendor with the worker's prices (`''` for none),
-- used only for a batch enqueued before batches kept their own prices.
local function priceOf(vendor)
  if redis.call('HEXISTS', callsKey, 'currency') == 1 then
    return tonumber(redis.call('HGET', callsKey, 'price:' .. vendor) or '')
  end
  for i = 1, #fallbackPrices, 2 do
    if fallbackPrices[i] == vendor then return tonumber(fallbackPrices[i + 1]) end
  end
  return nil
end
-- The running totals; a batch counted by an older release has only its per-vendor counters: add them up once.
local function totals()
  local paid = redis.call('HGET', callsKey, 'paid')
  if paid then return tonumber(paid), tonumber(redis.call('HGET', callsKey, 'spend') or '0') end
  local p, s = 0, 0
  for i = 1, #fallbackPrices, 2 do
    local n = tonumber(redis.call('HGET', callsKey, 'paid:' .. fallbackPrices[i]) or '0')
    p = p + n
    s = s + n * (priceOf(fallbackPrices[i]) or 0)
  end
  redis.call('HSET', callsKey, 'paid', p, 'spend', s, 'paid@unknown', p)
  return p, s
end
