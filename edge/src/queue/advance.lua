-- Advances the fleet-wide serving counter at the admission rate, on Redis's clock: every edge
-- calls it, each call adds the time since the last, so the rate holds however many edges run.
-- It stands still before the draw, while paused, and while the event is sold out (it resumes
-- when seats return); it never passes the number of people who joined, and never reaches more
-- places than there are seats for: places reached but not yet admitted plus live admissions stay
-- within the seats left, so a buyer further back cannot take the seat of one ahead who has not
-- polled yet. A place reached longer than the admission's lifetime ago and never claimed is
-- forfeited: it stops holding a seat back, and its buyer's turn has passed (`forfeit_below`).
-- KEYS[1] queue hash  KEYS[2] seats hash  KEYS[3] live zset  KEYS[4] reached list
-- KEYS[5] granted positions zset   ARGV[1] admissions per second  ARGV[2] admission ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local q = redis.call('HMGET', KEYS[1], 'drawn', 'paused', 'last_us', 'serving', 'joined', 'granted')
local last = tonumber(q[3] or now)
local serving = tonumber(q[4] or 0)
-- Where the counter stood one admission lifetime ago: the newest checkpoint at least that old.
local cutoff = now_ms - tonumber(ARGV[2])
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
local remaining = tonumber(redis.call('HGET', KEYS[2], 'remaining') or 0)
if q[1] == '1' and q[2] ~= '1' and remaining > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now_ms)
  local room = remaining - redis.call('ZCARD', KEYS[3])
  local forfeited = forfeit_below - redis.call('ZCOUNT', KEYS[5], '-inf', forfeit_below)
  local reachable = tonumber(q[6] or 0) + math.max(room, 0) + math.max(forfeited, 0)
  local cap = math.min(tonumber(q[5] or 0), reachable)
  serving = math.max(serving, math.min(serving + (now - last) / 1000000 * tonumber(ARGV[1]), cap))
end
local newest = redis.call('LINDEX', KEYS[4], -1)
if not newest or tonumber(string.match(newest, '^(%d+):')) <= now_ms - 1000 then
  redis.call('RPUSH', KEYS[4], now_ms .. ':' .. math.floor(serving))
end
redis.call('HSET', KEYS[1], 'serving', tostring(serving), 'last_us', now, 'forfeit_below', forfeit_below)
return math.floor(serving)
