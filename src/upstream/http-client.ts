import { Pool, type Dispatcher } from 'undici';
import type { Credentials } from './credentials/types.js';
import { dispatchRequest, type HttpResponse } from './dispatch.js';
import type { Cancel } from '../mcp/lazy-abort.js';
import { NO_REDACTION, type Redactor } from './redact.js';
import type { EventLimit } from './sse-parse.js';
import { UpstreamError, type TransportHandlers, type TransportLog } from './transport.js';

export interface HttpUpstreamOptions {
  url: string;
  credentials: Credentials;
  serverName: string;
  /** Budget for the response headers and for each silence between body chunks. */
  timeoutMs: number;
  log?: TransportLog;
  /**
   * A keep-alive pool (or Agent) shared by every transport to this origin, so sessions reuse warm
   * connections. Not closed by close(). Absent: the transport owns a pool of its own.
   */
  dispatcher?: Dispatcher;
  /** Masks the server's secrets in anything it answers before that becomes an error message. */
  redactor?: Redactor;
  /** The largest response body (or single event) accepted from the server. */
  maxResponseBytes?: number;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';
export type { HttpResponse } from './dispatch.js';

export interface RequestSpec {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  extraHeaders?: Record<string, string>;
  /** Ends the exchange early: a caller's AbortSignal, or the session's LazyAbort (no EventTarget per request). */
  signal?: Cancel;
  /** 0 for long-lived event streams. */
  bodyTimeout?: number;
  headersTimeout?: number;
}

export const NOOP_HANDLERS: TransportHandlers = { onmessage() {}, onclose() {} };
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** What an error message quotes of an error body; more is never read (a 50 MB error page stays upstream). */
const STATUS_BODY_CHARS = 200;
const STATUS_BODY_BYTES = 4 * 1024;
/** Per-request header names that carry credentials: their values are masked in what the server says back. */
const SECRET_HEADER = /authorization|cookie|token|secret|key|password|credential/i;

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The HTTP plumbing both HTTP transports share: a keep-alive pool for the upstream origin, credentials
 * on every request (with one refresh-and-retry after a 401), bounded bodies, and failures named after
 * the server with its secrets redacted.
 */
export class UpstreamHttp {
  readonly url: URL;
  readonly server: string;
  readonly redactor: Redactor;
  readonly maxResponseBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly opts: HttpUpstreamOptions) {
    this.url = new URL(opts.url);
    this.server = opts.serverName;
    this.redactor = opts.redactor ?? NO_REDACTION;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Pool(this.url.origin, { keepAliveTimeout: 30_000 });
  }

  get log(): TransportLog | undefined {
    return this.opts.log;
  }

  /** Sends one request; after a 401, refreshes the credentials once and repeats it. */
  async request(spec: RequestSpec): Promise<HttpResponse> {
    const first = await this.attempt(spec);
    if (first.statusCode !== 401 || !this.opts.credentials.refresh) return first;
    await first.body.dump();
    let renewed: boolean;
    try {
      renewed = await this.opts.credentials.refresh();
    } catch (err) {
      throw new UpstreamError(
        'unauthorized',
        `upstream "${this.server}" refused the credentials and refreshing them failed: ${this.cause(err)}`,
        401,
      );
    }
    if (!renewed) throw this.unauthorized();
    return this.attempt(spec);
  }

  private async attempt(spec: RequestSpec): Promise<HttpResponse> {
    const headers = { ...spec.headers };
    try {
      const applied = this.opts.credentials.apply({ method: spec.method, url: spec.url, headers, body: spec.body });
      if (applied) await applied;
    } catch (err) {
      throw new UpstreamError('unauthorized', `upstream "${this.server}": could not obtain credentials: ${this.cause(err)}`);
    }
    // Whatever the credentials wrote (an OAuth token fetched just now included) may come back in an answer.
    for (const name in headers) if (!(name in spec.headers)) this.redactor.learn(headers[name]);
    if (spec.extraHeaders) {
      for (const name in spec.extraHeaders) {
        const value = spec.extraHeaders[name];
        headers[name.toLowerCase()] = value;
        if (SECRET_HEADER.test(name)) this.redactor.learn(value);
      }
    }
    try {
      return await dispatchRequest(
        this.dispatcher,
        {
          origin: spec.url.origin,
          path: spec.url.pathname + spec.url.search,
          method: spec.method,
          headers,
          body: spec.body,
          headersTimeout: spec.headersTimeout ?? this.opts.timeoutMs,
          bodyTimeout: spec.bodyTimeout ?? this.opts.timeoutMs,
        },
        spec.signal,
      );
    } catch (err) {
      throw this.failure(err, spec.signal);
    }
  }

  /** Maps a thrown network error to an UpstreamError; an abort keeps the caller's own reason. */
  failure(err: unknown, signal?: Cancel): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof UpstreamError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new UpstreamError('timeout', `upstream "${this.server}" did not answer within ${this.opts.timeoutMs} ms`);
    }
    if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
      return new UpstreamError('closed', `upstream "${this.server}": the connection was closed`);
    }
    return new UpstreamError('unreachable', `upstream "${this.server}" unreachable: ${this.cause(err)}`);
  }

  unauthorized(): UpstreamError {
    return new UpstreamError('unauthorized', `upstream "${this.server}" refused the credentials (HTTP 401)`, 401);
  }

  /** The error for a non-2xx answer; reads at most a few KiB of the body and drops the rest. */
  async statusError(res: HttpResponse, hasSession: boolean, snippet?: string, afterLoss = false): Promise<UpstreamError> {
    const status = res.statusCode;
    if (status === 401) {
      await discard(res);
      return this.unauthorized();
    }
    const text = snippet ?? (await this.snippet(res));
    if (hasSession && (forgotSession(status, text) || (afterLoss && status === 400))) {
      return new UpstreamError(
        'session-lost',
        `upstream "${this.server}" no longer knows our session (HTTP ${status}); re-initialize`,
        status,
      );
    }
    // Redacted before it is cut: a secret cut in half would no longer be recognised.
    const quoted = this.redactor.redact(text).slice(0, STATUS_BODY_CHARS);
    return new UpstreamError('http-status', `upstream "${this.server}" answered HTTP ${status}${quoted ? `: ${quoted}` : ''}`, status);
  }

  /** The first few KiB of a body as text; the rest is discarded (a short rest drained, a long one dropped with its connection). */
  async snippet(res: HttpResponse, maxBytes = STATUS_BODY_BYTES): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      await res.body.each((chunk) => {
        chunks.push(chunk);
        size += chunk.length;
        return size < maxBytes;
      });
    } catch {
      // The status alone still names the failure.
    } finally {
      await discard(res);
    }
    return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
  }

  /** A whole (successful) body as text, refused beyond maxResponseBytes. */
  async text(res: HttpResponse): Promise<string> {
    const declared = Number(headerValue(res.headers, 'content-length'));
    if (declared > this.maxResponseBytes) {
      await discard(res);
      throw this.tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // A throw from the chunk callback drops the connection, as discarding an oversized rest did.
    await res.body.each((chunk) => {
      size += chunk.length;
      if (size > this.maxResponseBytes) throw this.tooLarge();
      chunks.push(chunk);
    });
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  }

  /** The bound on one event of an event stream: the same limit as a whole JSON body. */
  get eventLimit(): EventLimit {
    return { bytes: this.maxResponseBytes, error: () => this.tooLarge() };
  }

  tooLarge(): UpstreamError {
    return new UpstreamError(
      'protocol',
      `upstream "${this.server}" sent a response larger than ${this.maxResponseBytes} bytes (toolgate_settings.max_upstream_response_bytes)`,
    );
  }

  cause(err: unknown): string {
    return this.redactor.redact(causeOf(err));
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => {});
  }
}

/**
 * Whether an error answer means "I do not know this session": a 404, or a 400 that talks about the
 * session (server-everything restarted on the same port says "No valid session ID provided"); a 400
 * right after the connection was lost is read the same way by the caller (afterLoss).
 */
function forgotSession(status: number, body: string): boolean {
  if (status === 404) return true;
  return status === 400 && /session/i.test(body);
}

/**
 * Done with a body, read or not: a small rest is drained (the connection stays warm), a large one
 * makes undici drop the connection. Never an unhandled error from the aborted body.
 */
async function discard(res: HttpResponse): Promise<void> {
  await res.body.dump({ limit: STATUS_BODY_BYTES });
}

export function causeOf(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}
