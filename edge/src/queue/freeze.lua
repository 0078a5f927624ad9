-- Freezes the draw's entrants at starts_at (if no join has yet) and says where the draw stands.
-- KEYS[1] queue hash   ARGV[1] starts_at ms
-- Returns {frozen (-1: not yet), drawn (0/1)}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(ARGV[1]) and redis.call('HEXISTS', KEYS[1], 'frozen') == 0 then
  redis.call('HSET', KEYS[1], 'frozen', redis.call('HGET', KEYS[1], 'joined') or 0)
end
local state = redis.call('HMGET', KEYS[1], 'frozen', 'drawn')
return {tonumber(state[1] or -1), tonumber(state[2] or 0)}
