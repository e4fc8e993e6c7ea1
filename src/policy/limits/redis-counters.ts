import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from '../../config/types.js';
import {
  CountersUnavailable,
  PARALLEL_LEASE_MS,
  BUCKETS,
  type Admission,
  type CounterSpec,
  type CounterStatus,
  type Counters,
} from './counters.js';
import { LIMIT_SCRIPT, LIMIT_SCRIPT_SHA, RELEASE_SCRIPT } from './limit-script.js';
import { MemoryCounters } from './memory-counters.js';

export interface RedisCounterOptions {
  target: RedisTarget;
  log: Logger;
  /** Longest a call waits on Redis before the local counters decide it. */
  timeoutMs: number;
  /** Refuse calls while Redis is down, instead of counting them on this replica alone. */
  failClosed: boolean;
  /** Every key starts with it; `toolgate:` by default (tests use one per run). */
  prefix: string;
}

/** What one set of counters sends: the hashed keys, the arguments after the member, the parallel keys a release frees. */
interface SpecPlan {
  keys: string[];
  args: (string | number)[];
  held: string[];
}

/** After a failure, calls skip Redis for this long (a stalled Redis would otherwise cost every call the timeout). */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Counters shared by every replica on one Redis. While Redis cannot be reached each replica falls
 * back to its own MemoryCounters (or refuses, fail closed), warns once per outage, counts what it
 * decided alone, and goes back to Redis as soon as a call reaches it again.
 */
export class RedisCounters implements Counters {
  private readonly redis: Redis;
  private readonly local = new MemoryCounters();
  private readonly replica = randomBytes(6).toString('base64url');
  private sequence = 0;
  private up = true;
  private retryAt = 0;
  private outages = 0;
  private fallbackDecisions = 0;
  private failClosedRefusals = 0;
  private readonly keys = new Map<string, string>();
  private readonly specPlans = new WeakMap<readonly CounterSpec[], SpecPlan>();
  /** Parallel slots released and not yet sent: members per key. */
  private readonly releases = new Map<string, string[]>();
  private releaseQueued = false;

  constructor(private readonly opts: RedisCounterOptions) {
    const { url, host, port, password } = opts.target;
    const common = {
      // A call never waits for a connection or a reply longer than the timeout: no offline queue, no retries.
      commandTimeout: opts.timeoutMs,
      connectTimeout: Math.max(1000, opts.timeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
      lazyConnect: false,
    };
    this.redis = url ? new Redis(url, common) : new Redis({ host: host ?? '127.0.0.1', port: port ?? 6379, password, ...common });
    // Connection errors arrive as events too; the message never carries the password.
    this.redis.on('error', (err: Error) => this.failed(err));
    // Back: the next call tries Redis at once.
    this.redis.on('ready', () => (this.retryAt = 0));
  }

  /** Resolves once connected, or after the connect timeout (then calls count locally until Redis is up). */
  async connected(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1000, this.opts.timeoutMs));
      this.redis.once('ready', done);
    });
  }

  async acquire(specs: readonly CounterSpec[]): Promise<Admission> {
    if (this.redis.status !== 'ready' || (!this.up && Date.now() < this.retryAt)) {
      if (this.up) this.failed(new Error(`connection ${this.redis.status}`));
      return this.fallback(specs);
    }
    // Releases this replica made before this call reach Redis ahead of its check (one connection, in order).
    this.flushReleases();
    const member = `${this.replica}:${++this.sequence}`;
    const plan = this.planOf(specs);
    let reply: unknown;
    try {
      reply = await this.run(plan.keys, [member, ...plan.args]);
    } catch (err) {
      this.failed(err as Error);
      return this.fallback(specs);
    }
    this.recovered();
    const [index, current, retryAfterMs] = reply as number[];
    if (index !== 0) return { ok: false, index: index! - 1, current: current!, retryAfterMs: retryAfterMs! };
    const held = plan.held;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released || held.length === 0) return;
        released = true;
        this.queueRelease(held, member);
      },
    };
  }

  /**
   * The keys and arguments of a set of counters: a caller's plan hands the same specs array to
   * every call, so they are worked out (and their keys hashed) once per array.
   */
  private planOf(specs: readonly CounterSpec[]): SpecPlan {
    let plan = this.specPlans.get(specs);
    if (!plan) {
      const keys = specs.map((s) => this.keyOf(s.id));
      const args: (string | number)[] = [BUCKETS, PARALLEL_LEASE_MS];
      for (const s of specs) args.push(s.kind === 'rate' ? 'r' : 'p', s.limit);
      plan = { keys, args, held: keys.filter((_, i) => specs[i]!.kind === 'parallel') };
      this.specPlans.set(specs, plan);
    }
    return plan;
  }

  /**
   * Fire and forget, off the response path: the ZREMs go out once the current I/O is done (or ahead
   * of this replica's next acquire, whichever is first): one command for all calls released since.
   * A release lost to an outage frees itself when its lease runs out.
   */
  private queueRelease(keys: readonly string[], member: string): void {
    for (const k of keys) {
      const members = this.releases.get(k);
      if (members) members.push(member);
      else this.releases.set(k, [member]);
    }
    if (!this.releaseQueued) {
      this.releaseQueued = true;
      setImmediate(this.flushReleases);
    }
  }

  private readonly flushReleases = (): void => {
    this.releaseQueued = false;
    if (this.releases.size === 0) return;
    const keys = [...this.releases.keys()];
    const args: (string | number)[] = [];
    for (const members of this.releases.values()) args.push(members.length);
    for (const members of this.releases.values()) args.push(...members);
    this.releases.clear();
    // EVAL, not EVALSHA with a NOSCRIPT retry: a retry would reach Redis after a later acquire.
    this.redis.eval(RELEASE_SCRIPT, keys.length, ...keys, ...args).catch(() => {});
  };

  /** EVALSHA, loading the script with EVAL the first time a Redis has not seen it. */
  private async run(keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(LIMIT_SCRIPT_SHA, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(LIMIT_SCRIPT, keys.length, ...keys, ...args);
    }
  }

  /** The Redis key of a counter: prefixed and hashed, so no key, team or user id is stored in clear. */
  private keyOf(id: string): string {
    let key = this.keys.get(id);
    if (key === undefined) {
      key = this.opts.prefix + 'rl:' + createHash('sha256').update(id).digest('base64url').slice(0, 32);
      if (this.keys.size > 100_000) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }

  private fallback(specs: readonly CounterSpec[]): Admission {
    if (this.opts.failClosed) {
      this.failClosedRefusals++;
      throw new CountersUnavailable();
    }
    this.fallbackDecisions++;
    return this.local.acquire(specs);
  }

  private failed(err: Error): void {
    this.retryAt = Date.now() + RETRY_AFTER_FAILURE_MS;
    if (!this.up) return;
    this.up = false;
    this.outages++;
    const then = this.opts.failClosed ? 'refusing limited calls (rate_limit_fail_closed)' : "counting on this replica's own counters";
    this.opts.log.warn({ err: err.message }, `rate limits: Redis unreachable, ${then} until it is back`);
  }

  private recovered(): void {
    if (this.up) return;
    this.up = true;
    this.opts.log.warn('rate limits: Redis reachable again, counters shared again');
  }

  status(): CounterStatus {
    return {
      backend: 'redis',
      redis: this.up ? 'up' : 'down',
      fallbackDecisions: this.fallbackDecisions,
      outages: this.outages,
      failClosedRefusals: this.failClosedRefusals,
    };
  }

  async close(): Promise<void> {
    this.flushReleases();
    this.redis.disconnect();
  }
}
