-- Shared by the room's scripts that count admissions in use; prepended to each when it is loaded.
-- An admission holds back the seats its buyer may still buy (the event's per-user limit, less
-- what they hold), not one seat: with a limit above one, counting admissions would let the room
-- admit more buyers than can still buy. `held` in the queue hash is their sum over live
-- admissions; `live_seats` has each admission's share.

-- Ends the admissions that ran out by `now_ms`, releasing what they held back.
local function release_expired(queue, live, live_seats, now_ms)
  local ended = redis.call('ZRANGEBYSCORE', live, '-inf', now_ms)
  if #ended == 0 then return end
  local freed = 0
  for _, id in ipairs(ended) do
    freed = freed + tonumber(redis.call('HGET', live_seats, id) or 0)
    redis.call('HDEL', live_seats, id)
  end
  redis.call('ZREMRANGEBYSCORE', live, '-inf', now_ms)
  redis.call('HINCRBY', queue, 'held', -freed)
end

-- Seats for sale that no live admission holds back.
local function free_seats(queue, seats)
  local remaining = tonumber(redis.call('HGET', seats, 'remaining') or 0)
  return remaining - tonumber(redis.call('HGET', queue, 'held') or 0)
end
