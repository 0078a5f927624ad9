-- Opens an event's waiting room once: the first edge to get here stores the event's salt (which
-- hashes buyers into entrant ids), the draw's secret seed and its commitment; later callers keep
-- them. Returns the stored salt and commitment.
-- KEYS[1] queue hash   ARGV[1] salt (hex)  ARGV[2] seed (hex)  ARGV[3] commitment (hex)
if redis.call('HEXISTS', KEYS[1], 'salt') == 0 then
  redis.call('HSET', KEYS[1], 'salt', ARGV[1], 'seed', ARGV[2], 'commitment', ARGV[3])
end
return redis.call('HMGET', KEYS[1], 'salt', 'commitment')
