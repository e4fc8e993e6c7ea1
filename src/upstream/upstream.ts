import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import { ErrorCode, McpError, isObject, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import { META } from '../mcp/modern.js';
import { missingCapabilities } from '../mcp/input-requests.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import type { Credentials } from './credentials/types.js';
import { levelRank, needsDedicatedSession, profileKey, type ClientProfile, type ClientSink } from './lease.js';
import { ModernUpstreamSession } from './modern-session.js';
import { UpstreamSession, type RequestOptions } from './session.js';
import type { StateTokens } from '../mcp/state-token.js';
import { UpstreamError, type UpstreamTransport } from './transport.js';

export type UpstreamState = 'unknown' | 'ready' | 'down';
type Result = Record<string, unknown>;

export interface UpstreamDeps {
  log: Logger;
  credentials: Credentials;
  createTransport: (server: ServerConfig, credentials: Credentials, log: Logger) => UpstreamTransport;
  /** clientInfo sent on shared sessions. */
  clientInfo: Record<string, unknown>;
  /** Signs the envelope around a 2026 upstream's requestState handed to stateless clients. */
  stateTokens?: StateTokens;
}

interface SharedEntry {
  capabilities: Record<string, unknown>;
  session?: Promise<UpstreamSession>;
  leases: Set<Lease>;
  /** uri -> number of leases subscribed through this shared session. */
  subscriptions: Map<string, number>;
}

const BACKOFF_BASE_MS = 500;
const POOL_MAX_IDLE = 8;
const MAX_INPUT_ROUNDS = 8;
const WRAPPED_STATE_TTL_MS = 10 * 60_000;

function modernName(method: string, params: Result | undefined): string {
  const v = params?.name ?? params?.uri ?? params?.taskId;
  return typeof v === 'string' ? v : method;
}
const POOL_IDLE_MS = 60_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * One configured upstream server: its transport factory, credentials, pooled sessions and health.
 * Sessions are long-lived; a request never reconnects or re-lists unless the session was lost.
 */
export class Upstream {
  state: UpstreamState = 'unknown';
  lastError?: string;
  /** Which protocol era the server speaks: learnt once by probing, probed again after a failure. */
  era?: 'legacy' | 'modern';
  /** For a 2026 upstream: whether it also serves 2025 sessions (tried once, on the first session client). */
  speaksLegacy?: boolean;
  private eraProbe?: Promise<'legacy' | 'modern'>;
  /** Called on every upstream list_changed, whichever session it came from (catalog invalidation). */
  readonly listChangedListeners = new Set<(method: string) => void>();

  private readonly shared = new Map<string, SharedEntry>();
  /** Idle sessions lent one call at a time to stateless clients, per capability profile. */
  private readonly pools = new Map<string, { sessions: UpstreamSession[]; idleSince: Map<UpstreamSession, number> }>();
  private poolSweeper?: NodeJS.Timeout;
  private failures = 0;
  private retryAt = 0;
  private restartTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: UpstreamDeps,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** A new lease for one downstream client; no upstream traffic until it is used. */
  lease(profile: ClientProfile, sink: ClientSink): Lease {
    return new Lease(this, profile, sink);
  }

  /** The initialize result of the warm default session: what the server is, for readiness and answers. */
  async describe(capabilities: Record<string, unknown> = {}, modern = false): Promise<Result> {
    const s = await this.sharedSession(capabilities, modern);
    return s.initializeResult!;
  }

  /** Open a fresh, initialized session (dedicated to one client, or the shared one of a profile). */
  async openSession(profile: ClientProfile, headers?: Record<string, string>, wantModern = false): Promise<UpstreamSession> {
    if (this.stopped) throw new UpstreamError('closed', `upstream "${this.name}" is stopped`);
    const now = Date.now();
    if (now < this.retryAt && this.lastError) {
      throw new UpstreamError('unreachable', `${this.lastError} (next attempt in ${Math.ceil((this.retryAt - now) / 1000)} s)`);
    }
    let session: UpstreamSession | undefined;
    try {
      const era = await this.detectEra();
      // A session client in front of a dual-era server gets a real 2025 session (log levels,
      // subscriptions, server-to-client requests as they are); only a 2026-only server is bridged.
      if (era === 'legacy' || (!wantModern && this.speaksLegacy !== false)) {
        try {
          session = await this.openLegacy(profile, headers);
          if (era === 'modern') this.speaksLegacy = true;
        } catch (err) {
          if (era === 'legacy' || (err instanceof UpstreamError && (err.failure === 'unreachable' || err.failure === 'timeout'))) throw err;
          this.speaksLegacy = false;
        }
      }
      if (!session) {
        const modern = new ModernUpstreamSession(
          this.name,
          this.deps.createTransport(this.config, this.deps.credentials, this.deps.log),
          this.config.timeoutMs,
          this.deps.log,
        );
        session = modern;
        await modern.discover(profile, headers);
      }
    } catch (err) {
      await session?.close();
      this.markDown(err);
      throw err instanceof McpError || err instanceof UpstreamError
        ? err
        : new UpstreamError('unreachable', `upstream "${this.name}" failed to start: ${(err as Error).message}`);
    }
    this.markUp();
    const opened = session;
    opened.onNotification = (msg) => {
      if (msg.method.endsWith('/list_changed')) for (const l of this.listChangedListeners) l(msg.method);
    };
    return opened;
  }

  private async openLegacy(profile: ClientProfile, headers?: Record<string, string>): Promise<UpstreamSession> {
    const session = new UpstreamSession(
      this.name,
      this.deps.createTransport(this.config, this.deps.credentials, this.deps.log),
      this.config.timeoutMs,
    );
    try {
      await session.initialize(
        { protocolVersion: profile.protocolVersion, capabilities: profile.capabilities, clientInfo: profile.clientInfo },
        headers,
      );
      return session;
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  get stateTokens(): StateTokens | undefined {
    return this.deps.stateTokens;
  }

  /**
   * The era of an HTTP upstream, probed with server/discover: an answer naming 2026-07-28 means
   * stateless; a refusal (400/404/405, an error) means the 2025 era. stdio and SSE upstreams are
   * session-based. An unreachable server gives no verdict.
   */
  detectEra(): Promise<'legacy' | 'modern'> {
    if (this.era) return Promise.resolve(this.era);
    if (this.config.transport !== 'http') return Promise.resolve((this.era = 'legacy'));
    if (!this.eraProbe) {
      const probe = (async () => {
        const transport = this.deps.createTransport(this.config, this.deps.credentials, this.deps.log);
        const session = new ModernUpstreamSession(this.name, transport, Math.min(this.config.timeoutMs, 10_000));
        try {
          await session.discover({ protocolVersion: 'probe', capabilities: {}, clientInfo: this.deps.clientInfo });
          return 'modern' as const;
        } catch (err) {
          if (err instanceof UpstreamError && (err.failure === 'unreachable' || err.failure === 'timeout')) throw err;
          return 'legacy' as const;
        } finally {
          await session.close();
        }
      })();
      this.eraProbe = probe;
      probe.then(
        (era) => (this.era = era),
        () => (this.eraProbe = undefined),
      );
    }
    return this.eraProbe;
  }

  /** The warm session shared by every client of this capability profile. */
  async sharedSession(capabilities: Record<string, unknown>, wantModern = false): Promise<UpstreamSession> {
    const entry = this.sharedEntry(capabilities, wantModern);
    const current = entry.session;
    if (current) {
      // A session closed without being lost (a lease dropped it after the upstream answered 404
      // for it) must not be handed out again: every later request would fail on it.
      const s = await current;
      if (!s.closed) return s;
      if (entry.session === current) entry.session = undefined;
    }
    if (!entry.session) {
      const opening = this.openSession(
        { protocolVersion: LATEST_LEGACY_VERSION, capabilities, clientInfo: this.deps.clientInfo },
        undefined,
        wantModern,
      );
      entry.session = opening;
      opening.then(
        (s) => this.adoptShared(entry, s),
        () => {
          if (entry.session === opening) entry.session = undefined;
        },
      );
    }
    return entry.session;
  }

  sharedEntry(capabilities: Record<string, unknown>, modern = false): SharedEntry {
    const key = (modern ? 'modern|' : '') + profileKey(capabilities);
    let entry = this.shared.get(key);
    if (!entry) {
      entry = { capabilities, leases: new Set(), subscriptions: new Map() };
      this.shared.set(key, entry);
    }
    return entry;
  }

  private adoptShared(entry: SharedEntry, session: UpstreamSession): void {
    const upstreamListener = session.onNotification;
    session.onNotification = (msg) => {
      upstreamListener(msg);
      for (const lease of entry.leases) lease.deliver(msg);
    };
    session.onClose = (err) => {
      entry.session = undefined;
      this.markDown(err);
      this.deps.log.warn({ server: this.name, err: err.message }, 'upstream session lost');
      // A stdio child that died is brought back in the background, so the server is up again
      // before the next request needs it; HTTP upstreams reconnect on demand.
      if (this.config.transport === 'stdio') this.scheduleRestart(entry);
    };
    // A 2026 upstream has no GET stream: its list changes (and the subscribed resources) come on a listen.
    if (session instanceof ModernUpstreamSession) session.listenForChanges();
    // Resubscribe what leases still hold after a reconnect.
    for (const uri of entry.subscriptions.keys()) {
      session.request('resources/subscribe', { uri }).catch(() => {});
    }
  }

  /** An initialized session for exactly one call; give it back with checkin(). */
  async checkout(profile: ClientProfile): Promise<UpstreamSession> {
    const pool = this.pools.get(profileKey(profile.capabilities));
    while (pool && pool.sessions.length > 0) {
      const s = pool.sessions.pop()!;
      pool.idleSince.delete(s);
      if (!s.closed) return s;
    }
    return this.openSession(profile);
  }

  checkin(profile: ClientProfile, session: UpstreamSession): void {
    if (session.closed) return;
    if (this.stopped) {
      // close() could not see a session that was lent out: its streams would hold the shutdown open.
      session.close().catch(() => {});
      return;
    }
    const key = profileKey(profile.capabilities);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { sessions: [], idleSince: new Map() };
      this.pools.set(key, pool);
    }
    if (pool.sessions.length >= POOL_MAX_IDLE) {
      session.close().catch(() => {});
      return;
    }
    pool.sessions.push(session);
    pool.idleSince.set(session, Date.now());
    if (!this.poolSweeper) {
      this.poolSweeper = setInterval(() => this.sweepPools(), POOL_IDLE_MS / 2);
      this.poolSweeper.unref();
    }
  }

  private sweepPools(): void {
    const now = Date.now();
    for (const pool of this.pools.values()) {
      for (const [s, since] of pool.idleSince) {
        if (now - since < POOL_IDLE_MS) continue;
        pool.idleSince.delete(s);
        pool.sessions.splice(pool.sessions.indexOf(s), 1);
        s.close().catch(() => {});
      }
    }
  }

  private scheduleRestart(entry: SharedEntry): void {
    if (this.stopped || this.restartTimer) return;
    const delay = Math.max(0, this.retryAt - Date.now());
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped || entry.session) return;
      this.sharedSession(entry.capabilities).catch(() => this.scheduleRestart(entry));
    }, delay);
    this.restartTimer.unref();
  }

  /** What a call through any session tells about the server's health (HTTP has no connection to watch). */
  noteOutcome(err?: unknown): void {
    if (err === undefined) {
      if (this.state !== 'ready') this.markUp();
    } else if (err instanceof UpstreamError && (err.failure === 'unreachable' || err.failure === 'timeout')) {
      this.markDown(err);
    }
  }

  private markUp(): void {
    // A server that comes back may list something else than before it went away.
    if (this.state === 'down') for (const l of this.listChangedListeners) l('*');
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
    this.state = 'ready';
  }

  private markDown(err: unknown): void {
    // The server may come back as something else: learn its era again.
    this.era = undefined;
    this.eraProbe = undefined;
    this.failures++;
    this.retryAt = Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    this.lastError = err instanceof Error ? err.message : String(err);
    this.state = 'down';
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.poolSweeper) clearInterval(this.poolSweeper);
    for (const pool of this.pools.values()) for (const s of pool.sessions) closing.push(s.close());
    this.pools.clear();
    for (const entry of this.shared.values()) {
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

/**
 * One downstream client's use of one upstream. Shared or dedicated is decided here, from the
 * client's capabilities; callers only see request/notify/subscribe.
 */
export class Lease {
  private dedicated?: Promise<UpstreamSession>;
  private readonly subscriptions = new Set<string>();
  private level?: string;
  private released = false;
  private readonly isDedicated: boolean;
  private readonly isPooled: boolean;
  private readonly entry?: SharedEntry;

  constructor(
    private readonly upstream: Upstream,
    private readonly profile: ClientProfile,
    private readonly sink: ClientSink,
  ) {
    const needsOwn = needsDedicatedSession(profile.capabilities);
    this.isPooled = needsOwn && profile.pooled === true;
    this.isDedicated = needsOwn && !this.isPooled;
    if (!this.isDedicated) {
      this.entry = upstream.sharedEntry(profile.capabilities);
      this.entry.leases.add(this);
    }
  }

  /** The upstream's initialize result as this client would see it. */
  async initializeResult(headers?: Record<string, string>): Promise<Result> {
    // A stateless client is served by the modern session of a dual-era server: its discover names
    // what only 2026 offers (the tasks extension), which a 2025 session's initialize does not.
    if (this.profile.pooled) return (await this.upstream.sharedSession(this.profile.capabilities, true)).initializeResult!;
    return (await this.session(headers)).initializeResult!;
  }

  async request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    if (method === 'logging/setLevel' && !this.isDedicated) {
      // A shared session's log level belongs to everybody: filter per client instead.
      this.level = isObject(params) && typeof params.level === 'string' ? params.level : undefined;
      return {};
    }
    if ((method === 'resources/subscribe' || method === 'resources/unsubscribe') && !this.isDedicated) {
      return this.sharedSubscription(method, params, opts);
    }
    if (this.profile.pooled && (this.upstream.era ?? (await this.upstream.detectEra())) === 'modern') {
      return this.modernRequest(method, params, opts, await this.upstream.sharedSession(this.profile.capabilities, true));
    }
    if (this.profile.pooled && params && typeof params.requestState === 'string') {
      // A 2025-era upstream never issued state: whatever the client sends is not ours to trust.
      throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState');
    }
    if (this.isPooled && method !== 'resources/subscribe' && method !== 'resources/unsubscribe')
      return this.pooledRequest(method, params, opts);
    const session = await this.session(opts.headers);
    if (session instanceof ModernUpstreamSession) {
      // A dedicated session to a 2026 upstream: the level is this client's, sent with its requests.
      if (method === 'logging/setLevel') {
        this.track(method, params);
        return {};
      }
      const result = await this.modernRequest(method, params, opts, session);
      this.track(method, params);
      return result;
    }
    try {
      const result = await session.request(method, params, opts);
      this.upstream.noteOutcome();
      this.track(method, params);
      return result;
    } catch (err) {
      this.upstream.noteOutcome(err);
      // The upstream forgot our session (HTTP 404): it never processed the request, so a fresh
      // session and one retry is safe.
      if (err instanceof UpstreamError && err.failure === 'session-lost') {
        this.forget(session);
        const fresh = await this.session(opts.headers);
        return fresh.request(method, params, opts);
      }
      throw err;
    }
  }

  /**
   * A 2026-07-28 upstream asks for client input with `input_required` results. A stateless client
   * gets them as they are, with the upstream's requestState wrapped so that no other key can replay
   * it and it cannot be sent to another server; a session client is asked with real requests and
   * the upstream is retried with the answers and its exact requestState.
   */
  private async modernRequest(method: string, params: Result | undefined, opts: RequestOptions, session: UpstreamSession): Promise<Result> {
    const name = modernName(method, params);
    const binding = { k: opts.callerKeyId ?? '', s: this.upstream.name, m: method, n: name };
    let p = params;
    if (this.level !== undefined) {
      // Only this client's requests carry its level: the server logs for them and no one else.
      p = { ...p, _meta: { ...(isObject(p?._meta) ? p._meta : {}), [META.logLevel]: this.level } };
    }
    // Messages on this request's own stream are this client's, whoever else shares the session.
    opts = { ...opts, onNotification: (msg) => this.deliverOwn(msg) };
    const given = p?.requestState;
    if (typeof given === 'string') {
      const tokens = this.upstream.stateTokens;
      const unwrapped = tokens?.verify(given);
      if (!unwrapped || unwrapped.k !== binding.k || unwrapped.s !== binding.s || unwrapped.m !== binding.m || unwrapped.n !== binding.n) {
        throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState');
      }
      const { requestState: _wrapped, ...rest } = p!;
      p = typeof unwrapped.inner === 'string' ? { ...rest, requestState: unwrapped.inner } : rest;
    }
    for (let round = 0; round < MAX_INPUT_ROUNDS; round++) {
      const result = await session.request(method, p, opts);
      if (result.resultType !== 'input_required') return result;
      if (this.profile.pooled) {
        // Never relay an input request of a kind this request did not declare (the upstream should not ask).
        const missing = missingCapabilities(result.inputRequests, this.profile.capabilities);
        if (missing) {
          throw new McpError(
            ErrorCode.MissingRequiredClientCapability,
            `upstream "${this.upstream.name}" needs client capabilities this request did not declare: ${Object.keys(missing).join(', ')}`,
            {
              requiredCapabilities: missing,
            },
          );
        }
        // Wrapped even when the upstream sent none: the retry is then still bound to this caller.
        const tokens = this.upstream.stateTokens;
        if (!tokens) throw new McpError(ErrorCode.InternalError, 'no state key configured');
        const inner = typeof result.requestState === 'string' ? result.requestState : null;
        return { ...result, requestState: tokens.sign({ ...binding, inner }, WRAPPED_STATE_TTL_MS) };
      }
      const requests = isObject(result.inputRequests) ? result.inputRequests : {};
      const inputResponses: Result = {};
      for (const [key, r] of Object.entries(requests)) {
        if (!isObject(r) || typeof r.method !== 'string') continue;
        inputResponses[key] = await this.sink.request({
          jsonrpc: '2.0',
          id: 0,
          method: r.method,
          ...(isObject(r.params) ? { params: r.params } : {}),
        });
      }
      const { requestState: _old, inputResponses: _prev, ...rest } = p ?? {};
      p = { ...rest, inputResponses, ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}) };
    }
    throw new McpError(ErrorCode.InternalError, `upstream "${this.upstream.name}" kept asking for input after ${MAX_INPUT_ROUNDS} rounds`);
  }

  /** One call on a session borrowed for its whole duration, so its server-to-client requests are ours. */
  private async pooledRequest(method: string, params: Result | undefined, opts: RequestOptions): Promise<Result> {
    const session = await this.upstream.checkout(this.profile);
    const previous = session.onServerRequest;
    session.onServerRequest = (msg) => this.sink.request(msg);
    try {
      return await session.request(method, params, opts);
    } finally {
      session.onServerRequest = previous;
      this.upstream.checkin(this.profile, session);
    }
  }

  async notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void> {
    if (!this.isDedicated && method === 'notifications/roots/list_changed') return;
    const s = this.isDedicated ? this.dedicated : this.entry!.session;
    if (!s) return; // nothing upstream yet: a notification has nobody to reach
    await (await s).notify(method, params, headers);
  }

  /** A notification that came with one of this client's own requests (2026 upstreams): its level applies. */
  private deliverOwn(msg: JsonRpcNotification): void {
    if (this.released) return;
    if (msg.method === 'notifications/message' && this.level !== undefined && levelRank(msg.params?.level) < levelRank(this.level)) return;
    this.sink.notify(msg);
  }

  /** Shared-session fan-out: a notification from the upstream, filtered for this client. */
  deliver(msg: JsonRpcNotification): void {
    if (this.released) return;
    if (msg.method === 'notifications/message' && this.level !== undefined && levelRank(msg.params?.level) < levelRank(this.level)) return;
    if (msg.method === 'notifications/resources/updated') {
      const uri = msg.params?.uri;
      if (typeof uri !== 'string' || !this.subscriptions.has(uri)) return;
    }
    this.sink.notify(msg);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.entry) {
      this.entry.leases.delete(this);
      for (const uri of this.subscriptions) this.sharedSubscription('resources/unsubscribe', { uri }, {}).catch(() => {});
    }
    if (this.dedicated) {
      const d = this.dedicated;
      this.dedicated = undefined;
      await d.then(
        (s) => s.close(),
        () => {},
      );
    }
  }

  private session(headers?: Record<string, string>): Promise<UpstreamSession> {
    if (this.released) return Promise.reject(new UpstreamError('closed', `session with upstream "${this.upstream.name}" was released`));
    if (!this.isDedicated) return this.upstream.sharedSession(this.profile.capabilities);
    if (!this.dedicated) {
      const opening = this.upstream.openSession(this.profile, headers).then((s) => this.adopt(s));
      this.dedicated = opening;
      opening.catch(() => {
        if (this.dedicated === opening) this.dedicated = undefined;
      });
    }
    return this.dedicated;
  }

  private async adopt(session: UpstreamSession): Promise<UpstreamSession> {
    const upstreamListener = session.onNotification;
    session.onNotification = (msg) => {
      upstreamListener(msg);
      if (!this.released) this.sink.notify(msg);
    };
    session.onServerRequest = (msg) => this.sink.request(msg);
    session.onClose = () => this.forget(session);
    if (session instanceof ModernUpstreamSession) session.listenForChanges();
    // A reconnect restores what the client had set up on the lost session.
    if (this.level) await session.request('logging/setLevel', { level: this.level }).catch(() => {});
    for (const uri of this.subscriptions) await session.request('resources/subscribe', { uri }).catch(() => {});
    return session;
  }

  private forget(session: UpstreamSession): void {
    if (this.dedicated) {
      this.dedicated.then(
        (s) => {
          if (s === session) this.dedicated = undefined;
        },
        () => {},
      );
    }
    session.close().catch(() => {});
  }

  private track(method: string, params: Result | undefined): void {
    const uri = isObject(params) && typeof params.uri === 'string' ? params.uri : undefined;
    if (method === 'logging/setLevel') this.level = isObject(params) && typeof params.level === 'string' ? params.level : undefined;
    else if (method === 'resources/subscribe' && uri) this.subscriptions.add(uri);
    else if (method === 'resources/unsubscribe' && uri) this.subscriptions.delete(uri);
  }

  private async sharedSubscription(method: string, params: Result | undefined, opts: RequestOptions): Promise<Result> {
    const uri = isObject(params) && typeof params.uri === 'string' ? params.uri : undefined;
    if (!uri) throw new McpError(ErrorCode.InvalidParams, `${method} needs params.uri`);
    const counts = this.entry!.subscriptions;
    const n = counts.get(uri) ?? 0;
    if (method === 'resources/subscribe') {
      if (this.subscriptions.has(uri)) return {};
      // Counted before the upstream answers, so a second lease subscribing meanwhile is counted too.
      counts.set(uri, n + 1);
      this.subscriptions.add(uri);
      if (n === 0) {
        try {
          await (await this.session(opts.headers)).request(method, params, opts);
        } catch (err) {
          this.subscriptions.delete(uri);
          const left = (counts.get(uri) ?? 1) - 1;
          if (left > 0) counts.set(uri, left);
          else counts.delete(uri);
          throw err;
        }
      }
    } else {
      if (!this.subscriptions.delete(uri)) return {};
      if (n <= 1) {
        counts.delete(uri);
        // The entry's session, not this.session(): a released lease (its last subscriptions being
        // dropped) must still reach it, and there is nothing to unsubscribe on a session not open.
        const open = this.entry!.session;
        if (open) await (await open).request(method, params, opts);
      } else counts.set(uri, n - 1);
    }
    return {};
  }
}
