-- A buyer with a live admission bought: their admission now holds back only what they may still
-- buy (the per-user limit less what they hold), and ends its hold when that is nothing.
-- KEYS[1] queue hash  KEYS[2] live zset  KEYS[3] live seats hash  KEYS[4] seats hash
-- KEYS[5] holders hash   ARGV[1] entrant id (8 bytes)  ARGV[2] user
local share = redis.call('HGET', KEYS[3], ARGV[1])
if not share then return 0 end
local limit = tonumber(redis.call('HGET', KEYS[4], 'limit') or 1)
local holds = tonumber(redis.call('HGET', KEYS[5], ARGV[2]) or 0)
local left = math.max(limit - holds, 0)
if left >= tonumber(share) then return tonumber(share) end
redis.call('HINCRBY', KEYS[1], 'held', left - tonumber(share))
if left == 0 then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[3], ARGV[1], left)
end
return left
