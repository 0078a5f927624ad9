-- Reserves seats for one user in one atomic step: everything is checked and written here, or
-- nothing is. The order enters the event's stream in the same step, so no crash can separate
-- "seat taken" from "order recorded".
--
-- KEYS[1] seats hash    KEYS[2] holders hash   KEYS[3] nonces hash
-- KEYS[4] orders hash   KEYS[5] deadlines zset KEYS[6] stream   KEYS[7] orders by user hash
-- ARGV[1] user  ARGV[2] quantity  ARGV[3] token nonce  ARGV[4] new order id
-- ARGV[5] '1': only replay (the link can no longer buy)  ARGV[6] the refusal code then
-- ARGV[7] the order's total in minor units (what its payment must be)
--
-- Returns one of
--   {'reserved', order_id, pay_by_ms, remaining}
--   {'replayed', order_id, order_json}        the same nonce bought before: same order
--   {'refused', code, remaining}
local seats, holders, nonces, orders, deadlines, stream, by_user =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local user, qty, nonce, order_id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local replay_only, otherwise, total = ARGV[5] == '1', ARGV[6], tonumber(ARGV[7])

-- A retried request must find its order, not buy a second one; and only its buyer may see it
-- (a classic md5 token carries no user, so someone else may hold the link).
local earlier = redis.call('HGET', nonces, nonce)
if earlier then
  local record = redis.call('HGET', orders, earlier)
  local left = tonumber(redis.call('HGET', seats, 'remaining') or '0')
  if not record then
    return {'refused', 'token_used', left}
  end
  if cjson.decode(record).user ~= user then
    return {'refused', 'wrong_user', left}
  end
  return {'replayed', earlier, record}
end
if replay_only then
  return {'refused', otherwise, tonumber(redis.call('HGET', seats, 'remaining') or '0')}
end

local s = redis.call('HMGET', seats, 'remaining', 'limit', 'starts_at', 'ends_at', 'ttl_ms', 'gate')
if not s[1] then
  return {'refused', 'unknown_event', 0}
end
local remaining, limit = tonumber(s[1]), tonumber(s[2])
local starts_at, ends_at, ttl_ms, gate = tonumber(s[3]), tonumber(s[4]), tonumber(s[5]), s[6]

local now = now_ms()

-- The operator's `open` opens a sale early; it never keeps it open past ends_at.
if gate == 'closed' or now >= ends_at then
  return {'refused', 'ended', remaining}
end
if gate ~= 'open' and now < starts_at then
  return {'refused', 'not_started', remaining}
end
if not qty or qty < 1 or qty > limit then
  return {'refused', 'bad_request', remaining}
end
local held = tonumber(redis.call('HGET', holders, user) or '0')
if held + qty > limit then
  return {'refused', 'already_bought', remaining}
end
-- Sell only seats that exist: remaining must cover the whole quantity.
if remaining < qty then
  return {'refused', 'sold_out', remaining}
end

local pay_by = now + ttl_ms
redis.call('HINCRBY', seats, 'remaining', -qty)
redis.call('HINCRBY', seats, 'reserved', qty)
redis.call('HSET', holders, user, held + qty)
redis.call('HSET', nonces, nonce, order_id)
local mine = redis.call('HGET', by_user, user)
redis.call('HSET', by_user, user, mine and (mine .. ' ' .. order_id) or order_id)
record_change(orders, stream, order_id, {
  user = user, qty = qty, status = 'reserved', pay_by = pay_by, version = 1, created = now,
  total = total
}, now)
redis.call('ZADD', deadlines, pay_by, order_id)
return {'reserved', order_id, pay_by, remaining - qty}
