-- Every order transition after the reservation, each atomic: pay, checkout, confirm, cancel,
-- expire, finish.
-- Seats move between the counters in the same step as the order's state, and every change is
-- appended to the event's stream (with the order's new version) so the ledger follows.
--
-- KEYS[1] seats hash   KEYS[2] holders hash   KEYS[3] orders hash
-- KEYS[4] deadlines zset   KEYS[5] paid set   KEYS[6] stream   KEYS[7] shared access codes
-- KEYS[8] seat map (bitmap; a seated order's seats are freed with its reservation)
-- ARGV[1] action:
--   'pay'    ARGV[2] order id, ARGV[3] user -> {'ok', record} | {'refused', code}
--   'cancel' ARGV[2] order id, ARGV[3] user -> {'ok', record} | {'refused', code}
--   'checkout' ARGV[2] order id, ARGV[3] user, ARGV[4] a new payment id, ARGV[5] unit price
--            -> {'ok', record} (record.payment: the order's payment, the first one given)
--   'confirm' ARGV[2] order id, ARGV[3] payment id, ARGV[4] amount, ARGV[5] 'succeeded'|'failed'
--            ARGV[6] '1' if the currency is the event's
--            -> {'ok', record, 'paid'|'refund_due'|'unchanged'} | {'refused', code}
--   'expire' ARGV[2] batch size            -> {'done', count}   reservations past pay_by
--   'finish' ARGV[2] batch size            -> {'done', count}   paid orders, once the sale ended
local seats, holders, orders, deadlines, paid_set, stream, codes, seat_map =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
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
  for _, item in ipairs(lines_of(rec)) do
    redis.call('HINCRBY', seats, 't:' .. item.t .. ':remaining', item.q)
    redis.call('HINCRBY', seats, 't:' .. item.t .. ':reserved', -item.q)
    -- An order from before ticket types never counted in a per-type holder field.
    if rec.items then
      local field = rec.user .. ' ' .. item.t
      if redis.call('HINCRBY', holders, field, -item.q) <= 0 then
        redis.call('HDEL', holders, field)
      end
    end
  end
  -- Its seats are free on the map at once.
  for _, b in ipairs(rec.bits or {}) do redis.call('SETBIT', seat_map, b, 0) end
  redis.call('ZREM', deadlines, id)
  -- A shared code's use comes back with the seats.
  if rec.code then redis.call('HINCRBY', codes, rec.code, 1) end
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

-- The seats of a reservation become the buyer's.
local function mark_paid(id, rec)
  redis.call('HINCRBY', seats, 'reserved', -rec.qty)
  redis.call('HINCRBY', seats, 'paid', rec.qty)
  for _, item in ipairs(lines_of(rec)) do
    redis.call('HINCRBY', seats, 't:' .. item.t .. ':reserved', -item.q)
    redis.call('HINCRBY', seats, 't:' .. item.t .. ':paid', item.q)
  end
  redis.call('ZREM', deadlines, id)
  redis.call('SADD', paid_set, id)
  save(id, rec, 'paid')
end

if action == 'pay' or action == 'cancel' or action == 'checkout' then
  local id, user = ARGV[2], ARGV[3]
  local rec = own(id, user)
  if not rec then return {'refused', 'not_found'} end
  local paying = action ~= 'cancel'
  -- A retry of a pay or cancel that already happened (its answer was lost) gets the order as
  -- it is, like a retried buy does.
  if paying and (rec.status == 'paid' or rec.status == 'finished') then
    return {'ok', cjson.encode(rec)}
  end
  if action == 'cancel' and rec.status == 'canceled' and rec.reason ~= 'expired' then
    return {'ok', cjson.encode(rec)}
  end
  if rec.status == 'canceled' and rec.reason == 'expired' then
    return {'refused', paying and 'expired' or 'illegal_transition'}
  end
  if rec.status ~= 'reserved' then return {'refused', 'illegal_transition'} end
  if now > rec.pay_by then
    -- Too late to pay (the sweeper had not got to it yet): it expires now, seat back to stock.
    release(id, rec, 'expired')
    if paying then return {'refused', 'expired'} end
    return {'refused', 'illegal_transition'}
  end
  if action == 'cancel' then
    release(id, rec, 'canceled')
  elseif action == 'pay' then
    mark_paid(id, rec)
  elseif not rec.payment then
    -- One payment per order, whatever number of checkouts: a provider lets a failed payment
    -- be retried under its id, and two tabs cannot pay one order twice. Not a state change,
    -- so neither the version nor the stream moves.
    rec.payment = ARGV[4]
    -- An order reserved before totals were recorded is priced as its event is now.
    if not rec.total then rec.total = rec.qty * tonumber(ARGV[5]) end
    redis.call('HSET', orders, id, cjson.encode(rec))
  end
  return {'ok', cjson.encode(rec)}
end

if action == 'confirm' then
  local id, payment, amount, outcome = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
  local text = redis.call('HGET', orders, id)
  local rec = text and cjson.decode(text)
  -- Only a payment this order's checkout created can pay it.
  if not rec or rec.payment ~= payment then return {'refused', 'bad_request'} end
  if amount ~= rec.total or ARGV[6] ~= '1' then
    -- Flagged once per order, however often the provider retries the same confirmation.
    if not rec.mismatch then
      rec.mismatch = true
      redis.call('HSET', orders, id, cjson.encode(rec))
      redis.call('HINCRBY', seats, 'amount_mismatch', 1)
    end
    return {'refused', 'amount_mismatch'}
  end
  -- A failure changes nothing: the reservation runs out or the buyer tries again. A repeated
  -- success changes nothing either.
  if outcome ~= 'succeeded' or rec.status == 'paid' or rec.status == 'finished'
    or rec.status == 'refund_due' then
    return {'ok', cjson.encode(rec), 'unchanged'}
  end
  if rec.status == 'reserved' and now > rec.pay_by then
    release(id, rec, 'expired')
  end
  if rec.status == 'canceled' then
    -- The seats went back to stock (and may be sold again): they are not taken back. The money
    -- is owed back instead.
    redis.call('HINCRBY', seats, 'refund_due', rec.qty)
    save(id, rec, 'refund_due')
    return {'ok', cjson.encode(rec), 'refund_due'}
  end
  mark_paid(id, rec)
  return {'ok', cjson.encode(rec), 'paid'}
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
