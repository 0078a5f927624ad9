-- Advances the fleet-wide serving counter at the admission rate, on Redis's clock: every edge
-- calls it, each call adds the time since the last, so the rate holds however many edges run.
-- It stands still before the draw, while paused, and while the event is sold out (it resumes
-- when seats return); it never passes the number of people who joined, and never reaches more
-- places than there are seats for: places reached but not yet admitted plus live admissions stay
-- within the seats left, so a buyer further back cannot take the seat of one ahead who has not
-- polled yet.
-- KEYS[1] queue hash  KEYS[2] seats hash  KEYS[3] live zset   ARGV[1] admissions per second
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local q = redis.call('HMGET', KEYS[1], 'drawn', 'paused', 'last_us', 'serving', 'joined', 'granted')
local last = tonumber(q[3] or now)
local serving = tonumber(q[4] or 0)
local remaining = tonumber(redis.call('HGET', KEYS[2], 'remaining') or 0)
if q[1] == '1' and q[2] ~= '1' and remaining > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', math.floor(now / 1000))
  local room = remaining - redis.call('ZCARD', KEYS[3])
  local cap = math.min(tonumber(q[5] or 0), tonumber(q[6] or 0) + math.max(room, 0))
  serving = math.max(serving, math.min(serving + (now - last) / 1000000 * tonumber(ARGV[1]), cap))
end
redis.call('HSET', KEYS[1], 'serving', tostring(serving), 'last_us', now)
return math.floor(serving)
