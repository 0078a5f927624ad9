-- One GCRA decision for a cap shared by every edge, on Redis's clock so all edges agree on time.
-- KEYS[1]: the cap's key (the theoretical arrival time, µs). ARGV[1]: the emission interval (µs);
-- ARGV[2]: the burst. Returns 0 when allowed (and spends it), else the µs to wait.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return tat - tolerance - now
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.floor((next_tat - now) / 1000) + 1)
return 0
