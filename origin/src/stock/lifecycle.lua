-- Every order transition after the reservation, each atomic: pay, cancel, expire, finish.
-- Seats move between the counters in the same step as the order's state, and every change is
-- appended to the event's stream (with the order's new version) so the ledger follows.
--
-- KEYS[1] seats hash   KEYS[2] holders hash   KEYS[3] orders hash
-- KEYS[4] deadlines zset   KEYS[5] paid set   KEYS[6] stream
-- ARGV[1] action:
--   'pay'    ARGV[2] order id, ARGV[3] user -> {'ok', record} | {'refused', code}
--   'cancel' ARGV[2] order id, ARGV[3] user -> {'ok', record} | {'refused', code}
--   'expire' ARGV[2] batch size            -> {'done', count}   reservations past pay_by
--   'finish' ARGV[2] batch size            -> {'done', count}   paid orders, once the sale ended
local seats, holders, orders, deadlines, paid_set, stream =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local action = ARGV[1]

local now = now_ms()

local function save(id, rec, status)
  rec.status = status
  rec.version = rec.version + 1
  record_change(orders, stream, id, rec, now)
end

-- A reservation gives its seats back: to stock, and to the user's allowance. `why` is the
-- running counter it adds to, `expired` or `canceled`, which the operator dashboard charts.
local function release(id, rec, why)
  redis.call('HINCRBY', seats, 'remaining', rec.qty)
  redis.call('HINCRBY', seats, 'reserved', -rec.qty)
  redis.call('HINCRBY', seats, why, rec.qty)
  if redis.call('HINCRBY', holders, rec.user, -rec.qty) <= 0 then
    redis.call('HDEL', holders, rec.user)
  end
  redis.call('ZREM', deadlines, id)
  rec.reason = why
  save(id, rec, 'canceled')
end

-- The caller's own order, or nil: another user's order is as good as missing.
local function own(id, user)
  local text = redis.call('HGET', orders, id)
  if not text then return nil end
  local rec = cjson.decode(text)
  if rec.user ~= user then return nil end
  return rec
end

if action == 'pay' or action == 'cancel' then
  local id, user = ARGV[2], ARGV[3]
  local rec = own(id, user)
  if not rec then return {'refused', 'not_found'} end
  -- A retry of a pay or cancel that already happened (its answer was lost) gets the order as
  -- it is, like a retried buy does.
  if action == 'pay' and (rec.status == 'paid' or rec.status == 'finished') then
    return {'ok', cjson.encode(rec)}
  end
  if action == 'cancel' and rec.status == 'canceled' and rec.reason ~= 'expired' then
    return {'ok', cjson.encode(rec)}
  end
  if rec.status == 'canceled' and rec.reason == 'expired' then
    return {'refused', action == 'pay' and 'expired' or 'illegal_transition'}
  end
  if rec.status ~= 'reserved' then return {'refused', 'illegal_transition'} end
  if now > rec.pay_by then
    -- Too late to pay (the sweeper had not got to it yet): it expires now, seat back to stock.
    release(id, rec, 'expired')
    if action == 'pay' then return {'refused', 'expired'} end
    return {'refused', 'illegal_transition'}
  end
  if action == 'cancel' then
    release(id, rec, 'canceled')
  else
    redis.call('HINCRBY', seats, 'reserved', -rec.qty)
    redis.call('HINCRBY', seats, 'paid', rec.qty)
    redis.call('ZREM', deadlines, id)
    redis.call('SADD', paid_set, id)
    save(id, rec, 'paid')
  end
  return {'ok', cjson.encode(rec)}
end

if action == 'expire' then
  local due = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now - 1, 'LIMIT', 0, tonumber(ARGV[2]))
  for _, id in ipairs(due) do
    local text = redis.call('HGET', orders, id)
    local rec = text and cjson.decode(text)
    if rec and rec.status == 'reserved' then
      release(id, rec, 'expired')
    else
      redis.call('ZREM', deadlines, id)
    end
  end
  return {'done', #due}
end

if action == 'finish' then
  local ends_at = tonumber(redis.call('HGET', seats, 'ends_at') or '0')
  if ends_at == 0 or now < ends_at then return {'done', 0} end
  local ids = redis.call('SPOP', paid_set, tonumber(ARGV[2]))
  for _, id in ipairs(ids) do
    local text = redis.call('HGET', orders, id)
    if text then
      local rec = cjson.decode(text)
      if rec.status == 'paid' then save(id, rec, 'finished') end
    end
  end
  return {'done', #ids}
end

return redis.error_reply('unknown lifecycle action ' .. tostring(action))
