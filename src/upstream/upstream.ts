import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import type { StateTokens } from '../mcp/state-token.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import type { UpstreamConnection } from './connection.js';
import type { Credentials } from './credentials/types.js';
import { classOf, type UpstreamHealth } from './health.js';
import { createLease, type Lease, type LeaseHost } from './lease.js';
import { ModernUpstreamSession } from './modern-session.js';
import type { ClientProfile, ClientSink } from './profile.js';
import { redactorFor, type Redactor } from './redact.js';
import { UpstreamSession, UpstreamTimeoutError } from './session.js';
import { SessionPool, type SharedEntry } from './session-pool.js';
import { UpstreamError, type UpstreamTransport } from './transport.js';

export type { Lease } from './lease.js';
export type { UpstreamHealth, HealthErrorClass } from './health.js';
export type UpstreamState = 'unknown' | 'ready' | 'down';
type Result = Record<string, unknown>;

export interface UpstreamDeps {
  log: Logger;
  credentials: Credentials;
  createTransport: (server: ServerConfig, credentials: Credentials, log: Logger, redactor?: Redactor) => UpstreamTransport;
  /** clientInfo sent on shared sessions. */
  clientInfo: Record<string, unknown>;
  /** Signs the envelope around a 2026 upstream's requestState handed to stateless clients. */
  stateTokens?: StateTokens;
  /** At most this many upstream sessions (stdio: children) open at once (toolgate_settings.max_sessions_per_upstream). */
  maxSessions?: number;
  /** How long a shared session outlives its last lease. */
  idleGraceMs?: number;
}

export const DEFAULT_MAX_SESSIONS = 100;
const DEFAULT_IDLE_GRACE_MS = 5_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * A request refused while the server waits out its backoff. It repeats the failure that started the
 * backoff (same kind, same code for the client) but is not a new one: counting it would let busy
 * clients push the next attempt ever further away from a server that is already back.
 */
class BackoffRefusal extends UpstreamError {}

/** Failures of the server or the way to it, as opposed to an answer to one client's request. */
function isTransportFailure(err: unknown): boolean {
  if (err instanceof BackoffRefusal) return false;
  if (err instanceof UpstreamTimeoutError) return true;
  return err instanceof UpstreamError && (err.failure === 'unreachable' || err.failure === 'timeout' || err.failure === 'closed');
}

/**
 * One configured upstream server: its health, its protocol era and its lifecycle. Its sessions are
 * kept in a SessionPool (shared and stateless-pool sessions) and in the leases (dedicated ones);
 * a request never reconnects or re-lists unless the session was lost.
 */
export class Upstream implements LeaseHost {
  state: UpstreamState = 'unknown';
  /** Why the server is down, redacted of its secrets. */
  lastError?: string;
  private errorClass?: UpstreamHealth['errorClass'];
  /** The last transport failure, so a refusal during backoff answers with the same kind (and code). */
  private lastFailure?: UpstreamError;
  /** Which protocol era the server speaks: learnt once by probing, probed again after a failure. */
  era?: 'legacy' | 'modern';
  /** For a 2026 upstream: whether it also serves 2025 sessions (tried once, on the first session client). */
  speaksLegacy?: boolean;
  private eraProbe?: Promise<'legacy' | 'modern'>;
  /** Called on every upstream list_changed, whichever session it came from (catalog invalidation). */
  readonly listChangedListeners = new Set<(method: string) => void>();

  readonly pool: SessionPool;
  readonly redactor: Redactor;
  private openSessions = 0;
  private failures = 0;
  private retryAt = 0;
  private probeTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: UpstreamDeps,
  ) {
    this.redactor = redactorFor(config);
    this.pool = new SessionPool({
      idleGraceMs: deps.idleGraceMs ?? DEFAULT_IDLE_GRACE_MS,
      openShared: (capabilities, modern) =>
        this.openSession({ protocolVersion: LATEST_LEGACY_VERSION, capabilities, clientInfo: deps.clientInfo }, undefined, modern),
      openPooled: (profile) => this.openSession(profile),
      sharedLost: (entry, err) => this.sharedLost(entry, err),
      eraKnown: () => this.era,
    });
  }

  get name(): string {
    return this.config.name;
  }

  get stateTokens(): StateTokens | undefined {
    return this.deps.stateTokens;
  }

  /** A new lease for one downstream client; no upstream traffic until it is used. */
  lease(profile: ClientProfile, sink: ClientSink): Lease {
    return createLease(this, profile, sink);
  }

  /** The initialize result of the warm default session: what the server is, for readiness and answers. */
  async describe(capabilities: Record<string, unknown> = {}, modern = false): Promise<Result> {
    return (await this.pool.session(capabilities, modern)).initializeResult!;
  }

  /** The warm session shared by every client of this capability profile (listings use it directly). */
  sharedSession(capabilities: Record<string, unknown>, wantModern = false): Promise<UpstreamConnection> {
    return this.pool.session(capabilities, wantModern);
  }

  /** State and error class for anyone (readiness without a key); the message, redacted, for operators. */
  health(): UpstreamHealth {
    return {
      state: this.state,
      ...(this.errorClass ? { errorClass: this.errorClass } : {}),
      ...(this.lastError ? { error: this.lastError } : {}),
      sessions: this.openSessions,
    };
  }

  /** Open a fresh, initialized session (dedicated to one client, or the shared one of a profile). */
  async openSession(profile: ClientProfile, headers?: Record<string, string>, wantModern = false): Promise<UpstreamConnection> {
    if (this.stopped) throw new UpstreamError('closed', `upstream "${this.name}" is stopped`);
    const now = Date.now();
    // Not while a server known to be unreachable waits out its backoff; a timeout (a hung or slow
    // server) does not stop new sessions, which may well be answered.
    if (now < this.retryAt && this.lastError && this.errorClass !== 'timeout') {
      const f = this.lastFailure;
      throw new UpstreamError(
        f?.failure ?? 'unreachable',
        `${this.lastError} (next attempt in ${Math.ceil((this.retryAt - now) / 1000)} s)`,
        f?.status,
      );
    }
    const max = this.deps.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (this.openSessions >= max) {
      throw new McpError(
        ErrorCode.InternalError,
        `upstream "${this.name}" already has ${max} open sessions (toolgate_settings.max_sessions_per_upstream); ` +
          'raise the setting or let idle clients end their sessions',
      );
    }
    this.openSessions++;
    let session: UpstreamSession | undefined;
    try {
      session = await this.openEra(profile, headers, wantModern);
    } catch (err) {
      this.openSessions--;
      // Only the server's own failure, or the gateway's default session failing, says the server is down:
      // an upstream refusing one client's initialize (its capabilities) changes nothing for the others.
      if (isTransportFailure(err) || Object.keys(profile.capabilities).length === 0) this.markDown(err);
      throw err instanceof McpError || err instanceof UpstreamError
        ? err
        : new UpstreamError('unreachable', this.redactor.redact(`upstream "${this.name}" failed to start: ${(err as Error).message}`));
    }
    session.onEnded = () => this.openSessions--;
    if (this.stopped) {
      await session.close();
      throw new UpstreamError('closed', `upstream "${this.name}" is stopped`);
    }
    this.markUp();
    session.onNotification = (msg) => {
      if (msg.method.endsWith('/list_changed')) for (const l of this.listChangedListeners) l(msg.method);
    };
    return session;
  }

  private async openEra(
    profile: ClientProfile,
    headers: Record<string, string> | undefined,
    wantModern: boolean,
  ): Promise<UpstreamSession> {
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
          if (era === 'legacy' || isTransportFailure(err)) throw err;
          this.speaksLegacy = false;
        }
      }
      if (!session) {
        const modern = new ModernUpstreamSession(this.name, this.transport(), this.config.timeoutMs, this.deps.log, this.redactor);
        session = modern;
        await modern.discover(profile, headers);
      }
      return session;
    } catch (err) {
      await session?.close();
      throw err;
    }
  }

  private transport(): UpstreamTransport {
    return this.deps.createTransport(this.config, this.deps.credentials, this.deps.log, this.redactor);
  }

  private async openLegacy(profile: ClientProfile, headers?: Record<string, string>): Promise<UpstreamSession> {
    const session = new UpstreamSession(this.name, this.transport(), this.config.timeoutMs, this.redactor);
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
        const session = new ModernUpstreamSession(
          this.name,
          this.transport(),
          Math.min(this.config.timeoutMs, 10_000),
          undefined,
          this.redactor,
        );
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

  private sharedLost(entry: SharedEntry, err: Error): void {
    this.deps.log.warn({ server: this.name, err: this.redactor.redact(err.message) }, 'upstream session lost');
    // An HTTP server that forgot a session is not down: the next request opens another one.
    if (isTransportFailure(err)) this.markDown(err);
    // A stdio child that died is brought back in the background, so the server is up again before
    // the next request needs it (the probe reopens the default entry, then the others still wanted).
    else if (this.config.transport === 'stdio' && this.pool.wanted(entry)) void this.pool.sessionOf(entry).catch(() => {});
  }

  /** What a call through any session tells about the server's health (HTTP has no connection to watch). */
  noteOutcome(err?: unknown): void {
    if (err === undefined) {
      if (this.state !== 'ready') this.markUp();
    } else if (isTransportFailure(err) && !(err instanceof UpstreamError && err.failure === 'closed')) {
      // 'closed' on a call is a session that ended under it: its loss is reported by the session itself.
      this.markDown(err);
    }
  }

  private markUp(): void {
    // A server that comes back may list something else than before it went away.
    if (this.state === 'down') for (const l of this.listChangedListeners) l('*');
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
    this.errorClass = undefined;
    this.lastFailure = undefined;
    this.state = 'ready';
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private markDown(err: unknown): void {
    // The server may come back as something else: learn its era again.
    this.era = undefined;
    this.eraProbe = undefined;
    // One failure per backoff step: calls on sessions that were open when the server went away fail
    // too, and counting each would push the next attempt ever further from a server that is back.
    if (!(this.state === 'down' && Date.now() < this.retryAt)) {
      this.failures++;
      this.retryAt = Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    }
    this.lastError = this.redactor.redact(err instanceof Error ? err.message : String(err));
    this.errorClass = classOf(err);
    this.lastFailure = err instanceof UpstreamError ? err : undefined;
    this.state = 'down';
    this.scheduleProbe();
  }

  /**
   * While down, the default session is tried again at each backoff step, whether or not clients
   * call: readiness follows the server back, and a server that restarted (and forgot our session)
   * gets a fresh one before the next client needs it.
   */
  private scheduleProbe(): void {
    if (this.stopped || this.probeTimer) return;
    this.probeTimer = setTimeout(
      () => {
        this.probeTimer = undefined;
        void this.probe();
      },
      Math.max(0, this.retryAt - Date.now()),
    );
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.stopped || this.state !== 'down') return;
    const entry = this.pool.defaultEntry;
    try {
      let s = await this.pool.sessionOf(entry);
      try {
        await s.request('ping', undefined);
      } catch (err) {
        if (!(err instanceof UpstreamError && err.failure === 'session-lost')) throw err;
        await s.close();
        s = await this.pool.sessionOf(entry);
        await s.request('ping', undefined);
      }
      this.markUp();
    } catch (err) {
      // Any JSON-RPC answer (even "method not found") is a server that answers.
      if (err instanceof McpError && !(err instanceof UpstreamTimeoutError)) return this.markUp();
      if (this.state === 'down' && !this.probeTimer) {
        if (isTransportFailure(err) || (err instanceof UpstreamError && !(err instanceof BackoffRefusal))) this.markDown(err);
        else this.scheduleProbe();
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await this.pool.close();
  }
}
