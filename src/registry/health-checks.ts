import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import { isObject } from '../mcp/jsonrpc.js';
import { UpstreamError } from '../upstream/transport.js';
import type { Upstream } from '../upstream/upstream.js';
import type { ServerSource } from './registry.js';

/** LiteLLM's health fields for one server (`/v1/mcp/server/health`, `/v1/mcp/server/{id}`). */
export interface HealthResult {
  status: 'healthy' | 'unhealthy' | 'unknown';
  /** When the last probe finished; null before the first one (and for servers never probed). */
  last_health_check: string | null;
  /** Why the last probe failed, redacted of the server's secrets; null when it passed. */
  health_check_error: string | null;
}

export interface HealthCheckOptions {
  /** Every server is probed this often (`health_check_interval_seconds`); 0 = no background probes. */
  intervalMs: number;
  /** Budget for one probe, connect and initialize included. */
  timeoutMs: number;
  log: Pick<Logger, 'debug' | 'warn'>;
}

const UNKNOWN: HealthResult = { status: 'unknown', last_health_check: null, health_check_error: null };

/**
 * A server whose requests carry the client's own credentials (extra_headers) cannot be probed by the
 * gateway alone: any answer would say nothing about what a user gets, so it stays 'unknown'.
 */
export function needsUserCredentials(config: ServerConfig): boolean {
  return config.extraHeaders.length > 0;
}

/**
 * Background health checks, one probe per server every interval: `tools/list` (or `ping` for a server
 * without tools) on the Upstream's own warm default session. That session is opened (connect,
 * initialize) once and kept; a probe never opens one of its own, so probing cannot leak upstream
 * sessions (ContextForge #1549: an upstream ran out of memory after three days of probes). Results
 * are kept in memory; the request path never waits on a probe.
 */
export class HealthChecks {
  private readonly results = new Map<string, HealthResult>();
  private readonly running = new Map<string, Promise<HealthResult>>();
  private timer?: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly servers: ServerSource,
    private readonly opts: HealthCheckOptions,
  ) {
    this.unsubscribe = servers.subscribe((e) => {
      // A new definition's health says nothing yet; a removed server has none.
      this.results.delete(e.name);
      if (e.type !== 'removed' && this.opts.intervalMs > 0) void this.check(e.name);
    });
  }

  /** Probes every server now, then every interval (nothing when the interval is 0). */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    const round = () => {
      for (const name of this.servers.names()) void this.check(name);
    };
    round();
    this.timer = setInterval(round, this.opts.intervalMs);
    this.timer.unref();
  }

  /** The last probe's result; 'unknown' before the first or when the server is not probed. */
  status(name: string): HealthResult {
    return this.results.get(name) ?? UNKNOWN;
  }

  /** A live probe now (joining one already running); undefined for a server that does not exist. */
  async check(name: string): Promise<HealthResult | undefined> {
    const upstream = this.servers.get(name);
    if (!upstream) return undefined;
    if (needsUserCredentials(upstream.config)) return UNKNOWN;
    let probe = this.running.get(name);
    if (!probe) {
      probe = this.probe(upstream).finally(() => this.running.delete(name));
      this.running.set(name, probe);
    }
    return probe;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe();
  }

  private async probe(upstream: Upstream): Promise<HealthResult> {
    const budget = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`did not answer the health check within ${this.opts.timeoutMs / 1000} s`));
        budget.abort('health check timeout');
      }, this.opts.timeoutMs);
    });
    let error: string | null = null;
    try {
      await Promise.race([this.listTools(upstream, budget.signal), timeout]);
    } catch (err) {
      error = upstream.redactor.redact(err instanceof Error ? err.message : String(err));
      this.opts.log.debug({ server: upstream.name, err: error }, 'health check failed');
    } finally {
      clearTimeout(timer);
    }
    const result: HealthResult = {
      status: error === null ? 'healthy' : 'unhealthy',
      last_health_check: new Date().toISOString(),
      health_check_error: error,
    };
    // A probe of a definition replaced (or removed) meanwhile must not stand for the new one.
    if (this.servers.get(upstream.name) === upstream) this.results.set(upstream.name, result);
    return result;
  }

  private async listTools(upstream: Upstream, signal: AbortSignal): Promise<void> {
    const ask = async () => {
      const session = await upstream.sharedSession({});
      const caps = session.initializeResult?.capabilities;
      const method = isObject(caps) && 'tools' in caps ? 'tools/list' : 'ping';
      return { session, answer: session.request(method, undefined, { signal, timeoutMs: this.opts.timeoutMs }) };
    };
    const first = await ask();
    try {
      await first.answer;
    } catch (err) {
      // A restarted server forgot the session: that one is closed (the pool opens the next), as the
      // Upstream's own recovery probe does; a new session after a loss is not a session per probe.
      if (!(err instanceof UpstreamError && err.failure === 'session-lost')) throw err;
      await first.session.close();
      await (
        await ask()
      ).answer;
    }
  }
}
