import type { JsonRpcNotification } from '../mcp/jsonrpc.js';
import type { UpstreamConnection } from './connection.js';
import { profileKey, sharedCapabilities, type ClientProfile } from './profile.js';

/** A lease that receives what a shared session's server sends to everybody. */
export interface SharedMember {
  deliver(msg: JsonRpcNotification): void;
}

/**
 * The shared upstream session of one capability profile and the leases riding on it. It lives while
 * leases hold it, and a short grace after the last one left (so a client that reconnects, or the
 * catalog listing for it, finds it warm); the gateway's own default entry is pinned and never released.
 */
export class SharedEntry {
  session?: Promise<UpstreamConnection>;
  readonly members = new Set<SharedMember>();
  /** uri -> number of leases subscribed through this shared session. */
  readonly subscriptions = new Map<string, number>();
  idleTimer?: NodeJS.Timeout;
  /** When the session was last handed out. */
  lastUsed = 0;

  constructor(
    readonly key: string,
    readonly capabilities: Record<string, unknown>,
    readonly modern: boolean,
    readonly pinned: boolean,
  ) {}
}

export interface PoolHost {
  /** Opens an initialized session for the gateway itself with these capabilities. */
  openShared(capabilities: Record<string, unknown>, modern: boolean): Promise<UpstreamConnection>;
  /** Opens a session for one stateless call's profile. */
  openPooled(profile: ClientProfile): Promise<UpstreamConnection>;
  /** A shared session ended without being closed by us (health, restarts). */
  sharedLost(entry: SharedEntry, err: Error): void;
  /** The server's era once known: a stateless client of a 2025 server shares the 2025 sessions. */
  eraKnown(): 'legacy' | 'modern' | undefined;
  readonly idleGraceMs: number;
}

const POOL_MAX_IDLE = 8;
const POOL_IDLE_MS = 60_000;

/**
 * Every upstream session one Upstream keeps that is not dedicated to one client: the shared entries
 * (one per profile of what changes the upstream's behaviour) and the idle sessions lent one call at a
 * time to stateless clients.
 */
export class SessionPool {
  private readonly shared = new Map<string, SharedEntry>();
  private readonly idle = new Map<string, { sessions: UpstreamConnection[]; idleSince: Map<UpstreamConnection, number> }>();
  private sweeper?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly host: PoolHost) {}

  entry(capabilities: Record<string, unknown>, modern = false): SharedEntry {
    if (modern && this.host.eraKnown() === 'legacy') modern = false;
    const key = (modern ? 'modern|' : '') + profileKey(capabilities);
    let entry = this.shared.get(key);
    if (!entry) {
      // The gateway's own default session ({} capabilities, 2025 era) stays warm: readiness and catalogs use it.
      entry = new SharedEntry(key, sharedCapabilities(capabilities), modern, key === '{}');
      this.shared.set(key, entry);
      this.armIdle(entry);
    }
    return entry;
  }

  /** The warm session shared by every client of this capability profile. */
  async session(capabilities: Record<string, unknown>, modern = false): Promise<UpstreamConnection> {
    return this.sessionOf(this.entry(capabilities, modern));
  }

  async sessionOf(entry: SharedEntry): Promise<UpstreamConnection> {
    if (this.shared.get(entry.key) !== entry) {
      // Released meanwhile (its grace ran out): the live entry of that profile serves instead.
      return this.session(entry.capabilities, entry.modern);
    }
    // A use without a lease (a listing, describe) keeps an idle entry for another grace period.
    if (entry.members.size === 0) this.armIdle(entry);
    const current = entry.session;
    if (current) {
      // A session closed without being lost (a lease dropped it after the upstream said it no longer
      // knew it) must not be handed out again: every later request would fail on it.
      const s = await current;
      if (!s.closed) return this.used(entry, s);
      if (entry.session === current) entry.session = undefined;
    }
    if (!entry.session) {
      const opening = this.host.openShared(entry.capabilities, entry.modern);
      entry.session = opening;
      opening.then(
        (s) => this.adopt(entry, s, opening),
        () => {
          if (entry.session === opening) entry.session = undefined;
        },
      );
    }
    return this.used(entry, await entry.session);
  }

  /** Handed out now: the idle grace counts from here, not from when opening (perhaps slowly) began. */
  private used(entry: SharedEntry, s: UpstreamConnection): UpstreamConnection {
    entry.lastUsed = Date.now();
    return s;
  }

  join(entry: SharedEntry, member: SharedMember): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.members.add(member);
  }

  leave(entry: SharedEntry, member: SharedMember): void {
    if (!entry.members.delete(member)) return;
    if (entry.members.size === 0) this.armIdle(entry);
  }

  /** Whether an entry is still wanted (by a lease, or pinned): a lost session of it is brought back. */
  wanted(entry: SharedEntry): boolean {
    return this.shared.get(entry.key) === entry && (entry.pinned || entry.members.size > 0);
  }

  get defaultEntry(): SharedEntry {
    return this.entry({});
  }

  private armIdle(entry: SharedEntry): void {
    if (entry.pinned || this.stopped) return;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => this.releaseIdle(entry), this.host.idleGraceMs);
    entry.idleTimer.unref();
  }

  private releaseIdle(entry: SharedEntry): void {
    entry.idleTimer = undefined;
    if (entry.members.size > 0 || this.shared.get(entry.key) !== entry) return;
    const s = entry.session;
    if (s) {
      // A request still in flight on it (a listing), or a use since the timer was armed, keeps it a while longer.
      const inUse = s.then(
        (c) => !c.closed && (c.inFlight > 0 || Date.now() - entry.lastUsed < this.host.idleGraceMs),
        () => false,
      );
      void inUse.then((busy) => {
        if (busy) return this.armIdle(entry);
        if (entry.members.size > 0 || this.shared.get(entry.key) !== entry) return;
        this.shared.delete(entry.key);
        entry.session = undefined;
        s.then(
          (c) => c.close(),
          () => {},
        ).catch(() => {});
      });
      return;
    }
    this.shared.delete(entry.key);
  }

  private adopt(entry: SharedEntry, session: UpstreamConnection, opening: Promise<UpstreamConnection>): void {
    const hostListener = session.onNotification;
    session.onNotification = (msg) => {
      hostListener(msg);
      for (const member of entry.members) member.deliver(msg);
    };
    session.onClose = (err) => {
      if (entry.session === opening) entry.session = undefined;
      this.host.sharedLost(entry, err);
    };
    session.listenForChanges();
    // Resubscribe what leases still hold after a reconnect.
    for (const uri of entry.subscriptions.keys()) {
      session.request('resources/subscribe', { uri }).catch(() => {});
    }
  }

  /** An initialized session for exactly one call; give it back with checkin(). */
  async checkout(profile: ClientProfile): Promise<UpstreamConnection> {
    const pool = this.idle.get(profileKey(profile.capabilities));
    while (pool && pool.sessions.length > 0) {
      const s = pool.sessions.pop()!;
      pool.idleSince.delete(s);
      if (!s.closed) return s;
    }
    return this.host.openPooled(profile);
  }

  checkin(profile: ClientProfile, session: UpstreamConnection): void {
    if (session.closed) return;
    if (this.stopped) {
      // close() could not see a session that was lent out: its streams would hold the shutdown open.
      session.close().catch(() => {});
      return;
    }
    const key = profileKey(profile.capabilities);
    let pool = this.idle.get(key);
    if (!pool) {
      pool = { sessions: [], idleSince: new Map() };
      this.idle.set(key, pool);
    }
    if (pool.sessions.length >= POOL_MAX_IDLE) {
      session.close().catch(() => {});
      return;
    }
    pool.sessions.push(session);
    pool.idleSince.set(session, Date.now());
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(POOL_IDLE_MS, this.host.idleGraceMs * 4) / 2);
      this.sweeper.unref();
    }
  }

  /** Idle pooled sessions are closed after a while, so a burst of stateless calls leaves nothing behind. */
  private sweep(): void {
    const now = Date.now();
    const maxIdle = Math.min(POOL_IDLE_MS, this.host.idleGraceMs * 4);
    for (const [key, pool] of this.idle) {
      for (const [s, since] of pool.idleSince) {
        if (now - since < maxIdle) continue;
        pool.idleSince.delete(s);
        pool.sessions.splice(pool.sessions.indexOf(s), 1);
        s.close().catch(() => {});
      }
      if (pool.sessions.length === 0) this.idle.delete(key);
    }
  }

  /** How many shared entries and idle pooled sessions are held (tests, diagnostics). */
  get size(): { shared: number; idle: number } {
    let idle = 0;
    for (const p of this.idle.values()) idle += p.sessions.length;
    return { shared: this.shared.size, idle };
  }

  async close(): Promise<void> {
    this.stopped = true;
    const closing: Promise<void>[] = [];
    if (this.sweeper) clearInterval(this.sweeper);
    for (const pool of this.idle.values()) for (const s of pool.sessions) closing.push(s.close());
    this.idle.clear();
    for (const entry of this.shared.values()) {
      if (entry.idleTimer) clearTimeout(entry.idleTimer);
      if (entry.session)
        closing.push(
          entry.session.then(
            (s) => s.close(),
            () => {},
          ),
        );
      entry.session = undefined;
    }
    await Promise.all(closing);
  }
}
