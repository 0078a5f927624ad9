-- Releases the draw's lease only if this edge still holds it: a draw slower than the lease must
-- not delete the lease another edge took since.
-- KEYS[1] lease   ARGV[1] this edge's lease token
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
