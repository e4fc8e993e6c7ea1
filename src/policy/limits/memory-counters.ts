import { WINDOW_MS, type Admission, type CounterSpec, type CounterStatus, type Counters } from './counters.js';

/**
 * The calls of the last minute of one counter, oldest first, as a ring of timestamps. It never holds
 * more than `limit` entries (a refused call is not recorded), so memory is bounded by the limit.
 */
class RateLog {
  private times: number[] = [];
  private head = 0;

  /** Drops what fell out of the window; returns how many calls remain in it. */
  count(now: number): number {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.head++;
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  oldest(): number | undefined {
    return this.times[this.head];
  }

  add(now: number): void {
    this.times.push(now);
  }
}

/**
 * Counters of one process, the default and Redis's fallback. JavaScript runs one call's check and
 * take without interleaving, which is what makes them atomic here.
 */
export class MemoryCounters implements Counters {
  private readonly rates = new Map<string, RateLog>();
  private readonly inFlight = new Map<string, number>();
  private sweepAt = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  acquire(specs: readonly CounterSpec[]): Admission {
    const now = this.clock();
    if (now >= this.sweepAt) this.sweep(now);
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      if (s.kind === 'parallel') {
        const n = this.inFlight.get(s.id) ?? 0;
        // A slot frees when a call settles: no better hint than a second.
        if (n >= s.limit) return { ok: false, index: i, current: n + 1, retryAfterMs: 1000 };
      } else {
        const log = this.rates.get(s.id);
        const n = log ? log.count(now) : 0;
        if (n >= s.limit) {
          const oldest = log?.oldest();
          return { ok: false, index: i, current: n + 1, retryAfterMs: oldest === undefined ? WINDOW_MS : oldest + WINDOW_MS - now };
        }
      }
    }
    const held: string[] = [];
    for (const s of specs) {
      if (s.kind === 'parallel') {
        this.inFlight.set(s.id, (this.inFlight.get(s.id) ?? 0) + 1);
        held.push(s.id);
      } else {
        let log = this.rates.get(s.id);
        if (!log) this.rates.set(s.id, (log = new RateLog()));
        log.add(now);
      }
    }
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const id of held) {
          const n = (this.inFlight.get(id) ?? 1) - 1;
          if (n <= 0) this.inFlight.delete(id);
          else this.inFlight.set(id, n);
        }
      },
    };
  }

  /** Forgets counters idle for a whole window, so keys and teams that stopped calling cost nothing. */
  private sweep(now: number): void {
    this.sweepAt = now + WINDOW_MS;
    for (const [id, log] of this.rates) if (log.count(now) === 0) this.rates.delete(id);
  }

  status(): CounterStatus {
    return { backend: 'memory' };
  }

  async close(): Promise<void> {}
}
