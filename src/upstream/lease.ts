import { ErrorCode, McpError, isObject, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import type { StateTokens } from '../mcp/state-token.js';
import type { CallContext, UpstreamConnection } from './connection.js';
import { levelRank, needsDedicatedSession, type ClientProfile, type ClientSink } from './profile.js';
import type { RequestOptions } from './connection.js';
import type { SessionPool, SharedEntry } from './session-pool.js';
import { UpstreamError } from './transport.js';

export {
  UNKNOWN_CLIENT,
  levelRank,
  needsDedicatedSession,
  profileFromInitialize,
  profileKey,
  type ClientProfile,
  type ClientSink,
} from './profile.js';

type Result = Record<string, unknown>;

/** One downstream client's use of one upstream: what the router holds. */
export interface Lease {
  /** The upstream's initialize result as this client would see it. */
  initializeResult(headers?: Record<string, string>): Promise<Result>;
  request(method: string, params: Result | undefined, opts?: RequestOptions): Promise<Result>;
  notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void>;
  release(): Promise<void>;
}

/** What a lease needs from its Upstream (an interface, so lease.ts does not import upstream.ts back). */
export interface LeaseHost {
  readonly name: string;
  readonly pool: SessionPool;
  readonly stateTokens?: StateTokens;
  /** A fresh session of this client's own (dedicated), opened with its profile and headers. */
  openSession(profile: ClientProfile, headers?: Record<string, string>): Promise<UpstreamConnection>;
  detectEra(): Promise<'legacy' | 'modern'>;
  /** What a call's outcome tells about the server's health. */
  noteOutcome(err?: unknown): void;
}

/** The lease kind is chosen once, from the profile: the request path never asks again. */
export function createLease(host: LeaseHost, profile: ClientProfile, sink: ClientSink): Lease {
  if (profile.pooled) return new PooledLease(host, profile, sink);
  if (needsDedicatedSession(profile.capabilities)) return new DedicatedLease(host, profile, sink);
  return new SharedLease(host, profile, sink);
}

/** What every kind shares: the call context, notification filtering by level, the session-lost retry. */
abstract class LeaseBase implements Lease {
  protected released = false;
  /** Resources this client subscribed to (filters shared fan-out; restored on reconnect when dedicated). */
  protected readonly subscriptions = new Set<string>();
  protected readonly ctx: CallContext;

  constructor(
    protected readonly host: LeaseHost,
    protected readonly profile: ClientProfile,
    protected readonly sink: ClientSink,
    stateless: boolean,
  ) {
    this.ctx = {
      server: host.name,
      sink,
      capabilities: profile.capabilities,
      stateless,
      stateTokens: host.stateTokens,
      level: undefined,
      deliverOwn: (msg) => this.deliverOwn(msg),
    };
  }

  /** The client's log level: the ctx holds it, so calls read the level current when they are made. */
  protected get level(): string | undefined {
    return this.ctx.level;
  }

  abstract initializeResult(headers?: Record<string, string>): Promise<Result>;
  abstract request(method: string, params: Result | undefined, opts?: RequestOptions): Promise<Result>;
  abstract notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void>;
  abstract release(): Promise<void>;

  /**
   * One call on `session`. If the upstream forgot the session (HTTP 404, or a 400 naming it) it never
   * processed the request, so a fresh session and one retry is safe.
   */
  protected async callOn(
    get: () => Promise<UpstreamConnection>,
    drop: (s: UpstreamConnection) => void,
    method: string,
    params: Result | undefined,
    opts: RequestOptions,
  ): Promise<Result> {
    const session = await get();
    try {
      return await this.observed(session, method, params, opts);
    } catch (err) {
      if (!(err instanceof UpstreamError && err.failure === 'session-lost')) throw err;
      drop(session);
      return this.observed(await get(), method, params, opts);
    }
  }

  /** One call, its outcome told to the upstream's health. */
  protected async observed(session: UpstreamConnection, method: string, params: Result | undefined, opts: RequestOptions): Promise<Result> {
    try {
      const result = await session.call(method, params, opts, this.ctx);
      this.host.noteOutcome();
      return result;
    } catch (err) {
      this.host.noteOutcome(err);
      throw err;
    }
  }

  /** A notification that came with one of this client's own requests (2026 upstreams): its level applies. */
  protected deliverOwn(msg: JsonRpcNotification): void {
    if (this.released || this.belowLevel(msg)) return;
    this.sink.notify(msg);
  }

  protected belowLevel(msg: JsonRpcNotification): boolean {
    return msg.method === 'notifications/message' && this.level !== undefined && levelRank(msg.params?.level) < levelRank(this.level);
  }

  protected setLevel(params: Result | undefined): void {
    this.ctx.level = isObject(params) && typeof params.level === 'string' ? params.level : undefined;
  }
}

/**
 * Clients that never receive server-to-client requests share one warm session per profile: the
 * log level is filtered per client, subscriptions are counted per resource.
 */
abstract class OnSharedEntry extends LeaseBase {
  protected readonly entry: SharedEntry;

  constructor(host: LeaseHost, profile: ClientProfile, sink: ClientSink, stateless: boolean, modern = false) {
    super(host, profile, sink, stateless);
    this.entry = host.pool.entry(profile.capabilities, modern);
    host.pool.join(this.entry, this);
  }

  protected shared(): Promise<UpstreamConnection> {
    if (this.released) return Promise.reject(new UpstreamError('closed', `session with upstream "${this.host.name}" was released`));
    return this.host.pool.sessionOf(this.entry);
  }

  protected readonly dropShared = (s: UpstreamConnection): void => {
    s.close().catch(() => {});
  };

  /** Shared-session fan-out: a notification from the upstream, filtered for this client. */
  deliver(msg: JsonRpcNotification): void {
    if (this.released || this.belowLevel(msg)) return;
    if (msg.method === 'notifications/resources/updated') {
      const uri = msg.params?.uri;
      if (typeof uri !== 'string' || !this.subscriptions.has(uri)) return;
    }
    this.sink.notify(msg);
  }

  /** Shared-session parts of a request; undefined when the request is to be sent upstream. */
  protected sharedOnly(method: string, params: Result | undefined, opts: RequestOptions): Promise<Result> | undefined {
    if (method === 'logging/setLevel') {
      // A shared session's log level belongs to everybody: filter per client instead.
      this.setLevel(params);
      return Promise.resolve({});
    }
    if (method === 'resources/subscribe' || method === 'resources/unsubscribe') return this.sharedSubscription(method, params, opts);
    return undefined;
  }

  async notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void> {
    if (method === 'notifications/roots/list_changed') return;
    const s = this.entry.session;
    if (!s) return; // nothing upstream yet: a notification has nobody to reach
    await (await s).notify(method, params, headers);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const uri of this.subscriptions) this.sharedSubscription('resources/unsubscribe', { uri }, {}, true).catch(() => {});
    this.host.pool.leave(this.entry, this);
  }

  private async sharedSubscription(method: string, params: Result | undefined, opts: RequestOptions, releasing = false): Promise<Result> {
    const uri = isObject(params) && typeof params.uri === 'string' ? params.uri : undefined;
    if (!uri) throw new McpError(ErrorCode.InvalidParams, `${method} needs params.uri`);
    const counts = this.entry.subscriptions;
    const n = counts.get(uri) ?? 0;
    if (method === 'resources/subscribe') {
      if (this.subscriptions.has(uri)) return {};
      // Counted before the upstream answers, so a second lease subscribing meanwhile is counted too.
      counts.set(uri, n + 1);
      this.subscriptions.add(uri);
      if (n === 0) {
        try {
          await (await this.shared()).request(method, params, opts);
        } catch (err) {
          this.subscriptions.delete(uri);
          const left = (counts.get(uri) ?? 1) - 1;
          if (left > 0) counts.set(uri, left);
          else counts.delete(uri);
          throw err;
        }
      }
    } else {
      if (!releasing && !this.subscriptions.delete(uri)) return {};
      if (n <= 1) {
        counts.delete(uri);
        // The entry's session, not this.shared(): a released lease (its last subscriptions being
        // dropped) must still reach it, and there is nothing to unsubscribe on a session not open.
        const open = this.entry.session;
        if (open) await (await open).request(method, params, opts);
      } else counts.set(uri, n - 1);
    }
    return {};
  }
}

export class SharedLease extends OnSharedEntry {
  constructor(host: LeaseHost, profile: ClientProfile, sink: ClientSink) {
    super(host, profile, sink, false);
  }

  async initializeResult(): Promise<Result> {
    return (await this.shared()).initializeResult!;
  }

  request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    return this.sharedOnly(method, params, opts) ?? this.callOn(() => this.shared(), this.dropShared, method, params, opts);
  }
}

/**
 * A stateless (2026-07-28) client. A 2026 upstream serves it on the shared modern session of its
 * profile (input requests go back to the client wrapped); a 2025 upstream on the shared session, or,
 * when the call may ask the client something, on a session borrowed from the pool for the whole call.
 */
export class PooledLease extends OnSharedEntry {
  private readonly borrows: boolean;

  constructor(host: LeaseHost, profile: ClientProfile, sink: ClientSink) {
    super(host, profile, sink, true, true);
    this.borrows = needsDedicatedSession(profile.capabilities);
  }

  async initializeResult(): Promise<Result> {
    // Served by the modern session of a dual-era server: its discover names what only 2026 offers
    // (the tasks extension), which a 2025 session's initialize does not.
    return (await this.shared()).initializeResult!;
  }

  async request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    const own = this.sharedOnly(method, params, opts);
    if (own) return own;
    if ((await this.host.detectEra()) === 'modern') return this.callOn(() => this.shared(), this.dropShared, method, params, opts);
    if (!this.borrows) {
      return this.callOn(() => this.host.pool.session(this.profile.capabilities), this.dropShared, method, params, opts);
    }
    return this.borrowed(method, params, opts);
  }

  /** One call on a session borrowed for its whole duration, so its server-to-client requests are ours. */
  private async borrowed(method: string, params: Result | undefined, opts: RequestOptions): Promise<Result> {
    const session = await this.host.pool.checkout(this.profile);
    const previous = session.onServerRequest;
    session.onServerRequest = (msg) => this.sink.request(msg);
    try {
      return await this.observed(session, method, params, opts);
    } finally {
      session.onServerRequest = previous;
      this.host.pool.checkin(this.profile, session);
    }
  }
}

/** A client that receives server-to-client requests: an upstream session of its own, closed with the lease. */
export class DedicatedLease extends LeaseBase {
  private dedicated?: Promise<UpstreamConnection>;

  constructor(host: LeaseHost, profile: ClientProfile, sink: ClientSink) {
    super(host, profile, sink, false);
  }

  async initializeResult(headers?: Record<string, string>): Promise<Result> {
    return (await this.session(headers)).initializeResult!;
  }

  async request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    const result = await this.callOn(() => this.session(opts.headers), this.forget, method, params, opts);
    this.track(method, params);
    return result;
  }

  async notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void> {
    const s = this.dedicated;
    if (!s) return;
    await (await s).notify(method, params, headers);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const d = this.dedicated;
    this.dedicated = undefined;
    if (d)
      await d.then(
        (s) => s.close(),
        () => {},
      );
  }

  private session(headers?: Record<string, string>): Promise<UpstreamConnection> {
    if (this.released) return Promise.reject(new UpstreamError('closed', `session with upstream "${this.host.name}" was released`));
    if (!this.dedicated) {
      const opening = this.host.openSession(this.profile, headers).then((s) => this.adopt(s));
      this.dedicated = opening;
      opening.catch(() => {
        if (this.dedicated === opening) this.dedicated = undefined;
      });
    }
    return this.dedicated;
  }

  private async adopt(session: UpstreamConnection): Promise<UpstreamConnection> {
    const upstreamListener = session.onNotification;
    session.onNotification = (msg) => {
      upstreamListener(msg);
      if (!this.released) this.sink.notify(msg);
    };
    session.onServerRequest = (msg) => this.sink.request(msg);
    session.onClose = () => this.forget(session);
    session.listenForChanges();
    // A reconnect restores what the client had set up on the lost session (a 2026 session keeps the
    // level in each request's envelope and answers setLevel itself).
    if (this.level) await session.request('logging/setLevel', { level: this.level }).catch(() => {});
    for (const uri of this.subscriptions) await session.request('resources/subscribe', { uri }).catch(() => {});
    return session;
  }

  private readonly forget = (session: UpstreamConnection): void => {
    if (this.dedicated) {
      this.dedicated.then(
        (s) => {
          if (s === session) this.dedicated = undefined;
        },
        () => {},
      );
    }
    session.close().catch(() => {});
  };

  private track(method: string, params: Result | undefined): void {
    const uri = isObject(params) && typeof params.uri === 'string' ? params.uri : undefined;
    if (method === 'logging/setLevel') this.setLevel(params);
    else if (method === 'resources/subscribe' && uri) this.subscriptions.add(uri);
    else if (method === 'resources/unsubscribe' && uri) this.subscriptions.delete(uri);
  }
}
