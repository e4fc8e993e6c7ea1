import type { Logger } from 'pino';
import type { Counters } from './counters.js';
import { MemoryCounters } from './memory-counters.js';
import type { RateLimitSettings } from '../../config/types.js';
import { RedisCounters } from './redis-counters.js';

/** Counters on Redis when one is configured, else in this process. Waits (bounded) for the first connection. */
export async function openCounters(settings: RateLimitSettings | undefined, log: Logger): Promise<Counters> {
  if (!settings?.redis) return new MemoryCounters();
  const counters = new RedisCounters({
    target: settings.redis,
    log,
    timeoutMs: settings.redisTimeoutMs,
    failClosed: settings.failClosed,
    prefix: settings.redisPrefix,
  });
  await counters.connected();
  return counters;
}
