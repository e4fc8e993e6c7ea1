import { createHash } from 'node:crypto';

/**
 * The one Lua script of the shared counters: it checks every counter of a call and, only when all
 * have room, takes a slot in each, in one round trip and atomically (Redis runs a script alone).
 * Time is Redis's own clock, so replicas with skewed clocks still share one window.
 *
 * KEYS: the counters. ARGV: member (unique per call), buckets (seconds per window), lease ms, then
 * kind ('r' rate, 'p' parallel) and limit for each key. Answers {0} when admitted, else {index
 * (1-based), current count including this attempt, ms until a slot frees}.
 * Rate counters are hashes of one-second buckets (field: the second, value: calls), the same
 * sliding window as the in-memory counters, in constant memory. Beside the buckets, field "-1" holds
 * their total and field "-2" a second no stored bucket is at or before: a check reads those two and
 * drops only the buckets that left the window since (usually none, or one a second), instead of
 * reading and summing every bucket (a whole window of them cost a busy counter ~50 µs of Redis time
 * per call). Both are negative so a script that knows only the buckets takes them for stale ones and
 * deletes them; a hash without them (such a script's, or one whose clock went back) is summed in full
 * once. A rate hash's expiry is pushed back by the first call of each second only (it still outlives
 * its newest bucket's minute). Parallel ones are sorted sets of in-flight calls scored by when their lease runs out, so a
 * replica that died mid-call leaks a slot for one lease at most.
 */
export const LIMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sec = math.floor(now / 1000)
local buckets = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local lo = sec - buckets
local fresh = {}
for i, key in ipairs(KEYS) do
  local kind = ARGV[2 + i * 2]
  local limit = tonumber(ARGV[3 + i * 2])
  if kind == 'r' then
    local meta = redis.call('HMGET', key, '-1', '-2')
    local n = tonumber(meta[1])
    local c = tonumber(meta[2])
    if n == nil or c == nil or c > lo or lo - c > buckets then
      local h = redis.call('HGETALL', key)
      n = 0
      local old = {}
      for j = 1, #h, 2 do
        local s = tonumber(h[j])
        if s > lo then n = n + tonumber(h[j + 1])
        elseif s >= 0 then table.insert(old, h[j]) end
      end
      if #old > 0 then redis.call('HDEL', key, unpack(old)) end
      if n > 0 then redis.call('HSET', key, '-1', n, '-2', lo)
      else
        redis.call('DEL', key)
        fresh[i] = true
      end
    elseif c < lo then
      local gone = {}
      for s = c + 1, lo do table.insert(gone, s) end
      local v = redis.call('HMGET', key, unpack(gone))
      local dropped = {}
      for j = 1, #gone do
        if v[j] then
          n = n - tonumber(v[j])
          table.insert(dropped, gone[j])
        end
      end
      if #dropped > 0 then redis.call('HDEL', key, unpack(dropped)) end
      redis.call('HSET', key, '-1', n, '-2', lo)
    end
    if n >= limit then
      local h = redis.call('HGETALL', key)
      local live = {}
      for j = 1, #h, 2 do
        local s = tonumber(h[j])
        if s > lo then table.insert(live, {s, tonumber(h[j + 1])}) end
      end
      table.sort(live, function(a, b) return a[1] < b[1] end)
      local left = n
      local retry = buckets * 1000
      for _, b in ipairs(live) do
        left = left - b[2]
        if left < limit then
          retry = (b[1] + buckets) * 1000 - now
          break
        end
      end
      return {i, n + 1, retry}
    end
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local n = redis.call('ZCARD', key)
    if n >= limit then return {i, n + 1, 1000} end
  end
end
for i, key in ipairs(KEYS) do
  if ARGV[2 + i * 2] == 'r' then
    local first = redis.call('HINCRBY', key, sec, 1) == 1
    redis.call('HINCRBY', key, '-1', 1)
    if fresh[i] then redis.call('HSET', key, '-2', lo) end
    if first then redis.call('PEXPIRE', key, (buckets + 1) * 1000) end
  else
    redis.call('ZADD', key, now + lease, ARGV[1])
    redis.call('PEXPIRE', key, lease)
  end
end
return {0}
`;

export const LIMIT_SCRIPT_SHA = createHash('sha1').update(LIMIT_SCRIPT).digest('hex');

/**
 * Frees in-flight slots: KEYS are parallel counters, ARGV[i] how many of the members after the
 * counts belong to KEYS[i], in order. One command for every slot released since the last one.
 */
export const RELEASE_SCRIPT = `
local at = #KEYS
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i])
  -- In slices: Lua unpacks a few thousand values at most, and a burst may free more at once.
  for j = at + 1, at + n, 1000 do
    redis.call('ZREM', key, unpack(ARGV, j, math.min(j + 999, at + n)))
  end
  at = at + n
end
return 0
`;
