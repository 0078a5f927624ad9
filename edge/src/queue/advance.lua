-- Advances the fleet-wide serving counter at the admission rate, on Redis's clock: every edge
-- calls it, each call adds the time since the last, so the rate holds however many edges run.
-- It stands still before the draw, while paused, and while the event is sold out (it resumes
-- when seats return); it never passes the number of people who joined, and never reaches more
-- places than there are seats for: places reached but not yet admitted (each counted as the
-- per-user limit it may buy) plus what live admissions hold back stay within the seats left, so
-- a buyer further back cannot take the seat of one ahead who has not polled yet.
--
-- A place reached and never claimed for an admission's lifetime is forfeited: it stops holding a
-- seat back, and its buyer's turn has passed (`forfeit_below`). That lifetime is counted on the
-- room's own clock (`claim_ms`), which runs only while a reached place could be granted (some
-- seat is free of live admissions): a buyer reached while everything is sold or held back loses
-- nothing by waiting, and keeps the place when seats return.
-- KEYS[1] queue hash  KEYS[2] seats hash  KEYS[3] live zset  KEYS[4] reached list
-- KEYS[5] granted positions zset  KEYS[6] live seats hash
-- ARGV[1] admissions per second  ARGV[2] admission ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local q = redis.call('HMGET', KEYS[1], 'drawn', 'paused', 'last_us', 'serving', 'joined', 'granted', 'claim_ms')
local last = tonumber(q[3] or now)
local serving = tonumber(q[4] or 0)
release_expired(KEYS[1], KEYS[3], KEYS[6], now_ms)
local free = free_seats(KEYS[1], KEYS[2])
local claim = tonumber(q[7] or 0)
if q[1] == '1' and free > 0 then
  claim = claim + math.floor((now - last) / 1000)
end
-- Where the counter stood one admission lifetime ago on the room's clock: the newest
-- checkpoint at least that old.
local cutoff = claim - tonumber(ARGV[2])
while redis.call('LLEN', KEYS[4]) > 1 do
  local second = redis.call('LINDEX', KEYS[4], 1)
  if tonumber(string.match(second, '^(%d+):')) > cutoff then break end
  redis.call('LPOP', KEYS[4])
end
local forfeit_below = 0
local oldest = redis.call('LINDEX', KEYS[4], 0)
if oldest then
  local at, reached = string.match(oldest, '^(%d+):(%d+)$')
  if tonumber(at) <= cutoff then forfeit_below = tonumber(reached) end
end
if q[1] == '1' and q[2] ~= '1' and free > 0 then
  -- A place reached will hold back what its buyer may buy, once admitted.
  local limit = tonumber(redis.call('HGET', KEYS[2], 'limit') or 1)
  local forfeited = forfeit_below - redis.call('ZCOUNT', KEYS[5], '-inf', forfeit_below)
  local reachable = tonumber(q[6] or 0) + math.ceil(free / limit) + math.max(forfeited, 0)
  local cap = math.min(tonumber(q[5] or 0), reachable)
  serving = math.max(serving, math.min(serving + (now - last) / 1000000 * tonumber(ARGV[1]), cap))
end
local newest = redis.call('LINDEX', KEYS[4], -1)
if not newest or tonumber(string.match(newest, '^(%d+):')) <= claim - 1000 then
  redis.call('RPUSH', KEYS[4], claim .. ':' .. math.floor(serving))
end
redis.call('HSET', KEYS[1], 'serving', tostring(serving), 'last_us', now, 'forfeit_below', forfeit_below,
  'claim_ms', claim)
return math.floor(serving)
