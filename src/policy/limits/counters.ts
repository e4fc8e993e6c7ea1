/**
 * Rate-limit counters: one atomic check-and-take for every counter a call touches, so a call either
 * takes a slot in all of them or in none (a refused call consumes nothing).
 */

/**
 * The window of every requests-per-minute counter: 60 s, sliding by one-second buckets (constant
 * memory per counter on either backend; a call counts for 59 to 60 s).
 */
export const WINDOW_MS = 60_000;
export const BUCKETS = 60;

/**
 * How long an in-flight slot is held at most when its release never comes (a replica that died
 * mid-call). Real calls release on settle; this only bounds a leak on the shared counters.
 */
export const PARALLEL_LEASE_MS = 10 * 60_000;

/** One counter of a call: `rate` counts calls in the last minute, `parallel` calls in flight. */
export interface CounterSpec {
  /** Stable identity of the counter (kind, level, id, server/tool); hashed before it reaches Redis. */
  id: string;
  kind: 'rate' | 'parallel';
  limit: number;
}

export type Admission =
  | { ok: true; release(): void }
  | {
      ok: false;
      /** Which spec refused. */
      index: number;
      /** The count including this attempt (LiteLLM's "current rpm"). */
      current: number;
      /** When a slot frees, from now. */
      retryAfterMs: number;
    };

/** What the limits stage reports about its counters (readiness shows it). */
export interface CounterStatus {
  backend: 'memory' | 'redis';
  /** Redis only: whether the last attempt reached it. */
  redis?: 'up' | 'down';
  /** Calls decided by the local fallback counters because Redis could not be reached. */
  fallbackDecisions?: number;
  /** Outages seen since start (each warned once in the log). */
  outages?: number;
  /** Calls refused because Redis was down and rate_limit_fail_closed is set. */
  failClosedRefusals?: number;
}

export interface Counters {
  acquire(specs: readonly CounterSpec[]): Admission | Promise<Admission>;
  status(): CounterStatus;
  close(): Promise<void>;
}

/** The shared counters cannot be reached and the settings say to refuse rather than count locally. */
export class CountersUnavailable extends Error {
  constructor() {
    super('rate-limit counters unavailable');
    this.name = 'CountersUnavailable';
  }
}
