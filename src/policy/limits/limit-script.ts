import { createHash } from 'node:crypto';

/**
 * The one Lua script of the shared counters: it checks every counter of a call and, only when all
 * have room, takes a slot in each, in one round trip and atomically (Redis runs a script alone).
 * Time is Redis's own clock, so replicas with skewed clocks still share one window.
 *
 * KEYS: the counters. ARGV: member (unique per call), window ms, lease ms, then kind ('r' rate,
 * 'p' parallel) and limit for each key. Answers {0} when admitted, else {index (1-based), current
 * count including this attempt, ms until a slot frees}.
 * Rate counters are sorted sets of calls scored by time; parallel ones of in-flight calls scored by
 * when their lease runs out, so a replica that died mid-call leaks a slot for one lease at most.
 */
export const LIMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local kind = ARGV[2 + i * 2]
  local limit = tonumber(ARGV[3 + i * 2])
  if kind == 'r' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  end
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local retry = 1000
    if kind == 'r' then
      local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      if oldest[2] then retry = tonumber(oldest[2]) + window - now else retry = window end
    end
    return {i, n + 1, retry}
  end
end
for i, key in ipairs(KEYS) do
  if ARGV[2 + i * 2] == 'r' then
    redis.call('ZADD', key, now, ARGV[1])
    redis.call('PEXPIRE', key, window)
  else
    redis.call('ZADD', key, now + lease, ARGV[1])
    redis.call('PEXPIRE', key, lease)
  end
end
return {0}
`;

export const LIMIT_SCRIPT_SHA = createHash('sha1').update(LIMIT_SCRIPT).digest('hex');
