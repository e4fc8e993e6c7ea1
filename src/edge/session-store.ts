import { randomBytes } from 'node:crypto';
import type { DownstreamSession } from './downstream.js';

/**
 * Downstream sessions of this process, expired after an idle TTL. A session with a request in
 * flight or an open GET stream is not idle.
 */
export class SessionStore {
  private readonly sessions = new Map<string, DownstreamSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(readonly ttlMs: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(30_000, ttlMs / 4)));
    this.sweeper.unref();
  }

  /** 128 bits of randomness, visible ASCII as the spec requires. */
  newId(): string {
    return randomBytes(16).toString('base64url');
  }

  add(s: DownstreamSession): void {
    this.sessions.set(s.id, s);
  }

  get(id: string): DownstreamSession | undefined {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = Date.now();
    return s;
  }

  async delete(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await s.close();
  }

  get size(): number {
    return this.sessions.size;
  }

  sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) {
      if (s.busy) s.lastSeen = now;
      else if (now - s.lastSeen > this.ttlMs) {
        this.sessions.delete(id);
        s.close().catch(() => {});
      }
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close().catch(() => {})));
  }
}
