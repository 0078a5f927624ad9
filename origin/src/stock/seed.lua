-- Seeds one event's seat counters the first time any origin sees it, and refreshes its sale
-- window and limits on every start (they may change with the config; stock may not, because
-- seats already sold cannot be unsold). Seeding depends on the counters, not on the hash: an
-- operator's gate may exist before any origin seeded the event.
--
-- Each ticket type keeps its own counters beside the event's totals: 't:ID:total', ':remaining',
-- ':reserved', ':paid' and ':limit'. A type a reload adds is seeded then, its stock added to the
-- event's. An event seeded before types existed (none of its types has counters yet) hands its
-- counters to its 'general' type, which the config must keep: the seats it sold are in them.
-- A seated event keeps its seat map's layout fingerprint ('venue') and each category's runs
-- ('r:TYPE', 'r:TYPE:at': see seats.lua); its seat map starts all free. The layout never changes
-- under seats already sold: an event seeded with another layout, or without one, is refused.
--
-- KEYS[1] seats hash   KEYS[2] seat map
-- ARGV[1] stock (all types), ARGV[2] per-user limit, ARGV[3] starts_at ms, ARGV[4] ends_at ms,
-- ARGV[5] reservation ttl ms, ARGV[6] number of types, then per type: id, stock, limit; then
-- the phases as JSON ([{s, e, c, t}]: window ms, channel or '', types on sale) or '' for none;
-- last, the layout's fingerprint ('' unseated) and per category: id, first bit, packed runs
--
-- Returns {remaining, total}: the total is the stock in force, which a restart with another
-- stock does not change.
local seats, seat_map = KEYS[1], KEYS[2]
local fresh = redis.call('HEXISTS', seats, 'total') == 0
local count = tonumber(ARGV[6])
local layout = ARGV[8 + 3 * count] or ''
local seeded_layout = redis.call('HGET', seats, 'venue')
if not fresh and (seeded_layout or '') ~= layout then
  return redis.error_reply('this event was seeded with another seat map (or with none): ' ..
    'its venue cannot change once seats may be sold')
end
if layout ~= '' then
  if fresh then
    redis.call('DEL', seat_map)
    redis.call('HSET', seats, 'venue', layout)
    redis.call('SETBIT', seat_map, tonumber(ARGV[1]) - 1, 0)
  end
  for i = 9 + 3 * count, #ARGV, 3 do
    redis.call('HSET', seats, 'r:' .. ARGV[i], ARGV[i + 2], 'r:' .. ARGV[i] .. ':at', ARGV[i + 1])
  end
end
if fresh then
  redis.call('HSET', seats, 'total', ARGV[1], 'remaining', ARGV[1], 'reserved', 0, 'paid', 0,
    'expired', 0, 'canceled', 0)
end
redis.call('HSET', seats, 'limit', ARGV[2], 'starts_at', ARGV[3], 'ends_at', ARGV[4],
  'ttl_ms', ARGV[5])
local legacy = not fresh
for i = 0, count - 1 do
  if redis.call('HEXISTS', seats, 't:' .. ARGV[7 + 3 * i] .. ':total') == 1 then legacy = false end
end
if legacy then
  local keeps_general = false
  for i = 0, count - 1 do
    if ARGV[7 + 3 * i] == 'general' then keeps_general = true end
  end
  if not keeps_general then
    return redis.error_reply('this event sold seats before ticket types: keep a ticket type ' ..
      '"general" (with its stock) for them')
  end
end
for i = 0, count - 1 do
  local id, stock, limit = ARGV[7 + 3 * i], ARGV[8 + 3 * i], ARGV[9 + 3 * i]
  local p = 't:' .. id .. ':'
  if redis.call('HEXISTS', seats, p .. 'total') == 0 then
    if legacy and id == 'general' then
      local c = redis.call('HMGET', seats, 'total', 'remaining', 'reserved', 'paid')
      redis.call('HSET', seats, p .. 'total', c[1], p .. 'remaining', c[2],
        p .. 'reserved', c[3] or 0, p .. 'paid', c[4] or 0)
    else
      redis.call('HSET', seats, p .. 'total', stock, p .. 'remaining', stock, p .. 'reserved', 0,
        p .. 'paid', 0)
      if not fresh then
        redis.call('HINCRBY', seats, 'total', stock)
        redis.call('HINCRBY', seats, 'remaining', stock)
      end
    end
  end
  redis.call('HSET', seats, p .. 'limit', limit)
end
local phases = ARGV[7 + 3 * count]
if phases and phases ~= '' then
  redis.call('HSET', seats, 'phases', phases)
else
  redis.call('HDEL', seats, 'phases')
end
return {tonumber(redis.call('HGET', seats, 'remaining')),
  tonumber(redis.call('HGET', seats, 'total'))}
