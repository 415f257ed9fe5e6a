-- Opens a review case unless it exists; for one that exists, adds the reasons and lines it lacks.
--
-- KEYS: the case hash, the all / queue ZSETs, the batch's cases ZSET, the subject's cases SET, the seq counter.
-- ARGV: id, batch, subject, reasons (comma list), nowIso, then pairs of (line number, line JSON).
-- Returns `[1, seq]` when it opened the case, `[0, seq]` when the case existed.
local caseKey, allKey, queueKey, batchKey, subjectKey, seqKey = unpack(KEYS)
local id, batch, subject, reasons, nowIso = unpack(ARGV)
local lines = { unpack(ARGV, 6) }

local function has(list, item)
  for entry in string.gmatch(list, '[^,]+') do
    if entry == item then return true end
  end
  return false
end

if redis.call('EXISTS', caseKey) == 1 then
  local f = redis.call('HMGET', caseKey, 'reasons', 'lineNos', 'lines', 'seq')
  local have, lineNos, text = f[1] or '', f[2] or '', f[3] or '[]'
  for reason in string.gmatch(reasons, '[^,]+') do
    if not has(have, reason) then have = (have == '' and reason) or (have .. ',' .. reason) end
  end
  for i = 1, #lines, 2 do
    if not has(lineNos, lines[i]) then
      lineNos = (lineNos == '' and lines[i]) or (lineNos .. ',' .. lines[i])
      -- The lines are a JSON array: the new one goes before its closing bracket.
      text = (text == '[]' and ('[' .. lines[i + 1] .. ']')) or (string.sub(text, 1, -2) .. ',' .. lines[i + 1] .. ']')
    end
  end
  redis.call('HSET', caseKey, 'reasons', have, 'lineNos', lineNos, 'lines', text)
  return { 0, tonumber(f[4]) }
end

local seq = redis.call('INCR', seqKey)
local lineNos, parts = {}, {}
for i = 1, #lines, 2 do
  lineNos[#lineNos + 1] = lines[i]
  parts[#parts + 1] = lines[i + 1]
end
redis.call('HSET', caseKey, 'batch', batch, 'subject', subject, 'seq', seq, 'openedAt', nowIso, 'reasons', reasons,
  'lineNos', table.concat(lineNos, ','), 'lines', '[' .. table.concat(parts, ',') .. ']', 'state', 'open', 'decisions', 0)
redis.call('ZADD', allKey, seq, id)
redis.call('ZADD', queueKey, seq, id)
redis.call('ZADD', batchKey, seq, id)
redis.call('SADD', subjectKey, id)
return { 1, seq }
