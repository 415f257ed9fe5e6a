-- The finished rule (src/store/types.ts isBatchFinished): returns 1 when the batch has just become
-- finished (producer done, every line recorded) and stamps finishedAt; HSETNX makes that happen for
-- one write only, so a batch is announced once.
local function finishIfDone(metaKey, nowIso)
  if redis.call('HGET', metaKey, 'producerDone') ~= '1' then return 0 end
  local expected = tonumber(redis.call('HGET', metaKey, 'total') or '-1')
  local recorded = tonumber(redis.call('HGET', metaKey, 'recorded') or '0')
  if expected >= 0 and recorded >= expected and redis.call('HSETNX', metaKey, 'finishedAt', nowIso) == 1 then
    return 1
  end
  return 0
end
