-- Reserves seats for one user in one atomic step: everything is checked and written here, or
-- nothing is. The order enters the event's stream in the same step, so no crash can separate
-- "seat taken" from "order recorded".
--
-- A basket is all or nothing: every line's type, its per-user limit and its stock are checked
-- before anything is written. Each type's counters ('t:ID:remaining', ...) move with the event's
-- totals; the holders hash keeps each user's seats in all ('USER') and per type ('USER TYPE':
-- user ids have no spaces).
--
-- KEYS[1] seats hash    KEYS[2] holders hash   KEYS[3] nonces hash
-- KEYS[4] orders hash   KEYS[5] deadlines zset KEYS[6] stream   KEYS[7] orders by user hash
-- KEYS[8] shared access codes hash   KEYS[9] seat map (bitmap)   KEYS[10] seat ids hash
-- ARGV[1] user  ARGV[2] number of lines n  ARGV[3] token nonce  ARGV[4] new order id
-- ARGV[5] '1': only replay (the link can no longer buy)  ARGV[6] the refusal code then
-- ARGV[7..] n lines, each: ticket type, quantity, unit price in minor units; then the access
-- code as the origin read it: '' (none), 'bound:CHANNEL' (a code bound to this user for that
-- channel, verified by the origin) or 'shared:SHA256' (to look up here); then, on a seated
-- event, how seats are chosen: '' (not seated), 'pick' with the picked bits ('3,4,17': the
-- origin made each line its seats' category), 'best' (each line's best seats side by side) or
-- 'split' (side by side if possible, else the best wherever they are); last, the fingerprint of
-- the seat map the origin sells from, which must be the one the event was seeded with
--
-- A seated order remembers its seats' bits (to free them) and ids (for everyone downstream).
--
-- With phases (the seats hash's 'phases', JSON), the phase running now decides which types are
-- on sale and whether a code of its channel is needed; a shared code's use is spent with the
-- reservation, in this step, and the order remembers it so expiry or cancel gives it back.
--
-- Returns one of
--   {'reserved', order_id, pay_by_ms, remaining, seat ids ('A-1-3,A-1-4' or '')}
--   {'replayed', order_id, order_json}        the same nonce bought before: same order
--   {'refused', code, remaining[, ticket type or ''[, seat ids gone]]}
local seats, holders, nonces, orders, deadlines, stream, by_user, codes, seat_map, seat_ids =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local user, lines, nonce, order_id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local replay_only, otherwise = ARGV[5] == '1', ARGV[6]

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

local s = redis.call('HMGET', seats, 'remaining', 'limit', 'starts_at', 'ends_at', 'ttl_ms', 'gate',
  'venue')
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
-- The phase in force: the one running, or (the operator having opened the sale early) the next.
local phase = nil
local phases_text = redis.call('HGET', seats, 'phases')
local phases = phases_text and cjson.decode(phases_text) or nil
if phases then
  for _, ph in ipairs(phases) do
    if now < ph.e and (now >= ph.s or gate == 'open') then phase = ph break end
  end
  if not phase then
    for _, ph in ipairs(phases) do
      if now < ph.s then return {'refused', 'not_started', remaining} end
    end
    return {'refused', 'ended', remaining}
  end
end
local function on_sale(ph, t)
  for _, id in ipairs(ph.t) do if id == t then return true end end
  return false
end

local mode = ARGV[8 + 3 * lines] or ''
if mode ~= '' and s[7] ~= ARGV[10 + 3 * lines] then
  return redis.error_reply('SEATMAP this event was seeded with another seat map')
end
-- Seat ids for `bits`, or an error before anything is written: the bit -> id table is written
-- outside the scripts, so a lost entry must stop the sale of that seat, not half-write it.
local function seat_names(bits)
  if #bits == 0 then return {} end
  local names = redis.call('HMGET', seat_ids, unpack(bits))
  for i = 1, #bits do
    if not names[i] then return nil end
  end
  return names
end
local items, qty, total, line_of = {}, 0, 0, {}
for i = 0, lines - 1 do
  local t, q, p = ARGV[7 + 3 * i], tonumber(ARGV[8 + 3 * i]), tonumber(ARGV[9 + 3 * i])
  if not q or q < 1 then return {'refused', 'bad_request', remaining} end
  -- A type named twice is one line: each check below must see its whole quantity.
  if line_of[t] then
    line_of[t].q = line_of[t].q + q
  else
    line_of[t] = {t = t, q = q, p = p}
    items[#items + 1] = line_of[t]
  end
  qty = qty + q
  total = total + q * p
end
if qty < 1 or qty > limit then
  return {'refused', 'bad_request', remaining}
end
local held = tonumber(redis.call('HGET', holders, user) or '0')
if held >= limit then
  return {'refused', 'already_bought', remaining}
end
if held + qty > limit then
  return {'refused', 'limit_reached', remaining}
end
for _, item in ipairs(items) do
  local c = redis.call('HMGET', seats, 't:' .. item.t .. ':limit', 't:' .. item.t .. ':remaining')
  if not c[1] then return {'refused', 'unknown_ticket_type', remaining, item.t} end
  if phase and not on_sale(phase, item.t) then
    for _, ph in ipairs(phases) do
      if ph.s > now and on_sale(ph, item.t) then
        return {'refused', 'not_started', remaining, item.t}
      end
    end
    return {'refused', 'ended', remaining, item.t}
  end
  local held_type = tonumber(redis.call('HGET', holders, user .. ' ' .. item.t) or '0')
  if held_type + item.q > tonumber(c[1]) then
    return {'refused', 'limit_reached', remaining, item.t}
  end
  -- Sell only seats that exist: each type's remaining must cover its whole line. Picked seats
  -- are checked seat by seat below (a taken seat is named, whatever is left of its type).
  if mode ~= 'pick' and tonumber(c[2]) < item.q then
    return {'refused', 'sold_out', remaining, item.t}
  end
end

-- The phase's channel: a code of it is needed, bound to this user or shared with uses left.
local code_used = nil
if phase and phase.c ~= '' then
  local code = ARGV[7 + 3 * lines] or ''
  if code == '' then return {'refused', 'code_required', remaining} end
  local kind, value = string.match(code, '^(%a+):(.+)$')
  if kind == 'bound' then
    if value ~= phase.c then return {'refused', 'bad_code', remaining} end
  elseif kind == 'shared' then
    local found = redis.call('HMGET', codes, value, value .. ':c')
    if not found[1] or found[2] ~= phase.c then return {'refused', 'bad_code', remaining} end
    if tonumber(found[1]) < 1 then return {'refused', 'code_used_up', remaining} end
    code_used = value
  else
    return {'refused', 'bad_code', remaining}
  end
end

-- The seats, all or none: every pick free, or every line's best found, before any is taken.
local bits = {}
if mode == 'pick' then
  local gone = {}
  for b in string.gmatch(ARGV[9 + 3 * lines], '%d+') do
    b = tonumber(b)
    if redis.call('GETBIT', seat_map, b) == 1 then gone[#gone + 1] = b end
    bits[#bits + 1] = b
  end
  if #gone > 0 then
    local names = seat_names(gone)
    if not names then return redis.error_reply('SEATIDS the seat id table is incomplete') end
    return {'refused', 'seat_taken', remaining, '', table.concat(names, ',')}
  end
elseif mode == 'best' or mode == 'split' then
  for _, item in ipairs(items) do
    local got = best_seats(seats, seat_map, item.t, item.q, mode == 'split')
    if not got then return {'refused', 'not_together', remaining, item.t} end
    for _, b in ipairs(got) do bits[#bits + 1] = b end
  end
end
local names = seat_names(bits)
if not names then return redis.error_reply('SEATIDS the seat id table is incomplete') end
for _, b in ipairs(bits) do redis.call('SETBIT', seat_map, b, 1) end

local pay_by = now + ttl_ms
redis.call('HINCRBY', seats, 'remaining', -qty)
redis.call('HINCRBY', seats, 'reserved', qty)
redis.call('HSET', holders, user, held + qty)
for _, item in ipairs(items) do
  redis.call('HINCRBY', seats, 't:' .. item.t .. ':remaining', -item.q)
  redis.call('HINCRBY', seats, 't:' .. item.t .. ':reserved', item.q)
  redis.call('HINCRBY', holders, user .. ' ' .. item.t, item.q)
end
redis.call('HSET', nonces, nonce, order_id)
local mine = redis.call('HGET', by_user, user)
redis.call('HSET', by_user, user, mine and (mine .. ' ' .. order_id) or order_id)
record_change(orders, stream, order_id, {
  user = user, qty = qty, status = 'reserved', pay_by = pay_by, version = 1, created = now,
  total = total, items = items, code = code_used,
  bits = #bits > 0 and bits or nil, seats = #bits > 0 and names or nil
}, now)
if code_used then redis.call('HINCRBY', codes, code_used, -1) end
redis.call('ZADD', deadlines, pay_by, order_id)
return {'reserved', order_id, pay_by, remaining - qty, table.concat(names, ',')}
