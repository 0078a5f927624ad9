-- Shared by the reservation and lifecycle scripts; prepended to each when it is loaded, so
-- both read the clock and record an order's change the same way.

-- Redis's own clock in Unix milliseconds: one clock for every origin.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- An order's lines: each {t = ticket type, q = quantity, p = unit price}. An order reserved
-- before ticket types existed is one line of the event's one type, 'general'.
local function lines_of(rec)
  if rec.items and #rec.items > 0 then return rec.items end
  return {{t = 'general', q = rec.qty, p = 0}}
end

-- Stores order `id` as `rec` and appends the change to the event's stream, which the ledger
-- follows: every field the ledger reads, with the order's new version. Lines travel as
-- 'TYPE:QTY:PRICE,...', seats as 'ID,...' ('' for an order without seats).
local function record_change(orders, stream, id, rec, now)
  redis.call('HSET', orders, id, cjson.encode(rec))
  local lines = {}
  for _, item in ipairs(lines_of(rec)) do
    lines[#lines + 1] = string.format('%s:%d:%d', item.t, item.q, item.p or 0)
  end
  redis.call('XADD', stream, '*', 'order', id, 'user', rec.user, 'qty', rec.qty,
    'status', rec.status, 'pay_by', rec.pay_by, 'version', rec.version, 'at', now,
    'reason', rec.reason or '', 'total', rec.total or 0, 'payment', rec.payment or '',
    'items', table.concat(lines, ','), 'seats', table.concat(rec.seats or {}, ','))
end

