-- Seeds one event's seat counters the first time any origin sees it, and refreshes its sale
-- window and limits on every start (they may change with the config; stock may not, because
-- seats already sold cannot be unsold). Seeding depends on the counters, not on the hash: an
-- operator's gate may exist before any origin seeded the event.
-- KEYS[1] seats hash
-- ARGV[1] stock, ARGV[2] per-user limit, ARGV[3] starts_at ms, ARGV[4] ends_at ms,
-- ARGV[5] reservation ttl ms
if redis.call('HEXISTS', KEYS[1], 'total') == 0 then
  redis.call('HSET', KEYS[1], 'total', ARGV[1], 'remaining', ARGV[1], 'reserved', 0, 'paid', 0,
    'expired', 0, 'canceled', 0)
end
redis.call('HSET', KEYS[1], 'limit', ARGV[2], 'starts_at', ARGV[3], 'ends_at', ARGV[4],
  'ttl_ms', ARGV[5])
return tonumber(redis.call('HGET', KEYS[1], 'remaining'))
