-- Seat picking for the reservation script, prepended to it when it is loaded. The event's seat
-- map is one bitmap (1 = held or sold) laid out by `sale::seat_map`: each category's seats in
-- one range, best first, as runs of seats side by side in one row. A category's runs are packed
-- in the seats hash ('r:TYPE', 8 bytes each: first bit, length, offset of the run's best seat)
-- with the category's first bit ('r:TYPE:at').

-- Whether bit `i` of bitmap string `bm` is free (a bitmap cut short reads as free).
local function seat_free(bm, i)
  local byte = string.byte(bm, math.floor(i / 8) + 1)
  if not byte then return true end
  return bit.band(byte, bit.rshift(128, i % 8)) == 0
end

-- The best `n` free seats of category `t` side by side in one run, as a list of bits; nil if no
-- run has `n` free together. A placement that leaves a single free seat alone between taken
-- seats or against the run's end is taken only when no run has a placement without one; within
-- a run, the placement nearest its best seat wins. With `split`, when no run has `n` together,
-- the first `n` free seats in best-first order. Only the category's bytes of the map are read,
-- and runs whose bytes are all taken are passed over without reading their seats one by one.
local function best_seats(seats, seat_map, t, n, split)
  local runs = redis.call('HGET', seats, 'r:' .. t)
  local at = redis.call('HMGET', seats, 'r:' .. t .. ':at', 't:' .. t .. ':total')
  if not runs or not at[1] then return nil end
  local from, count = tonumber(at[1]), tonumber(at[2])
  local first = redis.call('BITPOS', seat_map, 0, from, from + count - 1, 'BIT')
  if first < 0 then return nil end
  local base = math.floor(from / 8)
  local bm = redis.call('GETRANGE', seat_map, base, math.floor((from + count - 1) / 8))
  local off = base * 8
  local function free(i) return seat_free(bm, i - off) end
  -- The run holding the best free seat: runs are in bit order, so a binary search finds it.
  local last = #runs / 8 - 1
  local lo, hi = 0, last
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if struct.unpack('>I4', runs, mid * 8 + 1) <= first then lo = mid else hi = mid - 1 end
  end
  -- The first byte at or after a run's first that has a free bit (nil: none is left).
  local free_byte = 0
  local function has_free(s, len)
    local b1 = math.floor((s - off) / 8) + 1
    if free_byte and free_byte < b1 then free_byte = string.find(bm, '[^\255]', b1) end
    return free_byte and free_byte <= math.floor((s + len - 1 - off) / 8) + 1
  end
  local fallback = nil
  for k = lo, last do
    local s, len, best = struct.unpack('>I4I2I2', runs, k * 8 + 1)
    if not free_byte then break end
    local pick, pick_d = nil, nil
    local i = has_free(s, len) and 0 or len
    while i < len do
      if free(s + i) then
        local a = i
        while i < len and free(s + i) do i = i + 1 end
        -- Free seats [a, i): every placement of n in it, gaps on both sides checked.
        for p = a, i - n do
          local d = math.abs(p + (n - 1) / 2 - best)
          if p - a ~= 1 and i - p - n ~= 1 then
            if not pick_d or d < pick_d then pick, pick_d = p, d end
          elseif not fallback or (fallback.k == k and d < fallback.d) then
            fallback = {k = k, s = s + p, d = d}
          end
        end
      else
        i = i + 1
      end
    end
    if pick then
      local got = {}
      for j = 0, n - 1 do got[#got + 1] = s + pick + j end
      return got
    end
  end
  if fallback then
    local got = {}
    for j = 0, n - 1 do got[#got + 1] = fallback.s + j end
    return got
  end
  if not split then return nil end
  local got = {}
  for k = lo, last do
    local s, len = struct.unpack('>I4I2', runs, k * 8 + 1)
    for i = 0, len - 1 do
      if free(s + i) then
        got[#got + 1] = s + i
        if #got == n then return got end
      end
    end
  end
  return nil
end
