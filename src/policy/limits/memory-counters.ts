import { BUCKETS, WINDOW_MS, type Admission, type CounterSpec, type CounterStatus, type Counters } from './counters.js';

/**
 * One counter's calls of the last minute in 60 one-second buckets: constant memory whatever the
 * limit, and exact for any span shorter than the window (a call leaves the count 59-60 s after it).
 */
class RateWindow {
  private readonly counts = new Uint32Array(BUCKETS);
  private readonly seconds = new Float64Array(BUCKETS).fill(-Infinity);

  /** Calls in the window ending at second `sec`. */
  count(sec: number): number {
    let n = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.seconds[i]! > sec - BUCKETS) n += this.counts[i]!;
    return n;
  }

  /** Ms from `now` until the count is below `limit`: when enough of the oldest buckets have left the window. */
  retryAfterMs(now: number, limit: number): number {
    const sec = Math.floor(now / 1000);
    const live: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.seconds[i]! > sec - BUCKETS) live.push([this.seconds[i]!, this.counts[i]!]);
    live.sort((x, y) => x[0] - y[0]);
    let n = live.reduce((sum, [, c]) => sum + c, 0);
    for (const [bucket, c] of live) {
      n -= c;
      if (n < limit) return (bucket + BUCKETS) * 1000 - now;
    }
    return WINDOW_MS;
  }

  add(sec: number): void {
    const i = sec % BUCKETS;
    if (this.seconds[i] !== sec) {
      this.seconds[i] = sec;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  idle(sec: number): boolean {
    return this.count(sec) === 0;
  }
}

/**
 * Counters of one process, the default and Redis's fallback. JavaScript runs one call's check and
 * take without interleaving, which is what makes them atomic here.
 */
export class MemoryCounters implements Counters {
  private readonly rates = new Map<string, RateWindow>();
  private readonly inFlight = new Map<string, number>();
  private sweepAt = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  acquire(specs: readonly CounterSpec[]): Admission {
    const now = this.clock();
    const sec = Math.floor(now / 1000);
    if (now >= this.sweepAt) this.sweep(now);
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      if (s.kind === 'parallel') {
        const n = this.inFlight.get(s.id) ?? 0;
        // A slot frees when a call settles: no better hint than a second.
        if (n >= s.limit) return { ok: false, index: i, current: n + 1, retryAfterMs: 1000 };
      } else {
        const w = this.rates.get(s.id);
        const n = w ? w.count(sec) : 0;
        if (n >= s.limit) return { ok: false, index: i, current: n + 1, retryAfterMs: w ? w.retryAfterMs(now, s.limit) : WINDOW_MS };
      }
    }
    const held: string[] = [];
    for (const s of specs) {
      if (s.kind === 'parallel') {
        this.inFlight.set(s.id, (this.inFlight.get(s.id) ?? 0) + 1);
        held.push(s.id);
      } else {
        let w = this.rates.get(s.id);
        if (!w) this.rates.set(s.id, (w = new RateWindow()));
        w.add(sec);
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
    const sec = Math.floor(now / 1000);
    for (const [id, w] of this.rates) if (w.idle(sec)) this.rates.delete(id);
  }

  status(): CounterStatus {
    return { backend: 'memory' };
  }

  async close(): Promise<void> {}
}
