-- Joins one buyer to an event's waiting room, once: a second join (from any edge) returns the
-- same place. On Redis's clock, so every edge agrees when the pre-queue opened and froze: the
-- first join at or after starts_at freezes the entrant count, and everyone after queues behind.
-- KEYS[1] queue hash  KEYS[2] joined hash  KEYS[3] order list
-- ARGV[1] entrant id (8 bytes)  ARGV[2] opens_at ms  ARGV[3] starts_at ms  ARGV[4] ends_at ms
-- Returns {'closed'} | {'ended'} | {'joined', number, frozen (-1: not yet), drawn (0/1)}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(ARGV[2]) then return {'closed'} end
if now >= tonumber(ARGV[4]) then return {'ended'} end
if now >= tonumber(ARGV[3]) and redis.call('HEXISTS', KEYS[1], 'frozen') == 0 then
  redis.call('HSET', KEYS[1], 'frozen', redis.call('HGET', KEYS[1], 'joined') or 0)
end
local number = redis.call('HGET', KEYS[2], ARGV[1])
if not number then
  number = redis.call('HINCRBY', KEYS[1], 'joined', 1)
  redis.call('HSET', KEYS[2], ARGV[1], number)
  redis.call('RPUSH', KEYS[3], ARGV[1])
end
local state = redis.call('HMGET', KEYS[1], 'frozen', 'drawn')
return {'joined', tonumber(number), tonumber(state[1] or -1), tonumber(state[2] or 0)}
