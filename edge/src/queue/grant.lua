-- Grants one buyer their admission, once, when the serving counter has reached their position
-- and some seat for sale is not held back by a live admission (so the room never admits more
-- buyers than can still buy). The admission holds back what its buyer may buy: the event's
-- per-user limit. Every grant is recorded, in order, for the audit.
-- A place reached so long ago that it was forfeited (see advance.lua) is not admitted: its turn
-- has passed.
-- KEYS[1] queue hash  KEYS[2] granted hash  KEYS[3] live zset  KEYS[4] grants list  KEYS[5] seats
-- KEYS[6] granted positions zset  KEYS[7] live seats hash
-- ARGV[1] entrant id (8 bytes)  ARGV[2] position  ARGV[3] admission ttl ms  ARGV[4] id in hex
-- Returns {'admitted', until_ms} | {'waiting', serving} | {'sold_out'} | {'passed'}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local granted = redis.call('HGET', KEYS[2], ARGV[1])
if granted then return {'admitted', tonumber(granted)} end
local state = redis.call('HMGET', KEYS[1], 'serving', 'forfeit_below')
local serving = math.floor(tonumber(state[1] or 0))
local position = tonumber(ARGV[2])
if position > serving then return {'waiting', serving} end
if position <= tonumber(state[2] or 0) then return {'passed'} end
if tonumber(redis.call('HGET', KEYS[5], 'remaining') or 0) <= 0 then return {'sold_out'} end
release_expired(KEYS[1], KEYS[3], KEYS[7], now)
if free_seats(KEYS[1], KEYS[5]) <= 0 then return {'waiting', serving} end
local limit = tonumber(redis.call('HGET', KEYS[5], 'limit') or 1)
local ends = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ends)
redis.call('ZADD', KEYS[3], ends, ARGV[1])
redis.call('HSET', KEYS[7], ARGV[1], limit)
redis.call('HINCRBY', KEYS[1], 'held', limit)
redis.call('ZADD', KEYS[6], position, ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[4] .. ':' .. position .. ':' .. serving .. ':' .. now)
redis.call('HINCRBY', KEYS[1], 'granted', 1)
return {'admitted', ends}
