import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { Credentials } from './credentials/types.js';
import { deliverJson, readEventStream } from './sse-parse.js';
import { UpstreamError, type SendOptions, type TransportHandlers, type TransportLog, type UpstreamTransport } from './transport.js';

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
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';
export type HttpResponse = Dispatcher.ResponseData;

interface RequestSpec {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  extraHeaders?: Record<string, string>;
  signal?: AbortSignal;
  /** 0 for long-lived event streams. */
  bodyTimeout?: number;
  headersTimeout?: number;
}

export const NOOP_HANDLERS: TransportHandlers = { onmessage() {}, onclose() {} };
const POST_ACCEPT = 'application/json, text/event-stream';
const STATUS_BODY_CHARS = 200;
const DELETE_TIMEOUT_MS = 5_000;
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Resumptions in a row that bring no new event before a request is given up. */
const MAX_IDLE_RESUMES = 5;

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The HTTP plumbing both HTTP transports share: a keep-alive pool for the upstream origin, credentials
 * on every request (with one refresh-and-retry after a 401), and failures named after the server.
 */
export class UpstreamHttp {
  readonly url: URL;
  readonly server: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly opts: HttpUpstreamOptions) {
    this.url = new URL(opts.url);
    this.server = opts.serverName;
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
        `upstream "${this.server}" refused the credentials and refreshing them failed: ${causeOf(err)}`,
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
      throw new UpstreamError('unauthorized', `upstream "${this.server}": could not obtain credentials: ${causeOf(err)}`);
    }
    if (spec.extraHeaders) for (const name in spec.extraHeaders) headers[name.toLowerCase()] = spec.extraHeaders[name];
    try {
      return await this.dispatcher.request({
        origin: spec.url.origin,
        path: spec.url.pathname + spec.url.search,
        method: spec.method,
        headers,
        body: spec.body,
        signal: spec.signal,
        headersTimeout: spec.headersTimeout ?? this.opts.timeoutMs,
        bodyTimeout: spec.bodyTimeout ?? this.opts.timeoutMs,
      });
    } catch (err) {
      throw this.failure(err, spec.signal);
    }
  }

  /** Maps a thrown network error to an UpstreamError; an abort keeps the caller's own reason. */
  failure(err: unknown, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof UpstreamError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new UpstreamError('timeout', `upstream "${this.server}" did not answer within ${this.opts.timeoutMs} ms`);
    }
    if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
      return new UpstreamError('closed', `upstream "${this.server}": the connection was closed`);
    }
    return new UpstreamError('unreachable', `upstream "${this.server}" unreachable: ${causeOf(err)}`);
  }

  unauthorized(): UpstreamError {
    return new UpstreamError('unauthorized', `upstream "${this.server}" refused the credentials (HTTP 401)`, 401);
  }

  /** The error for a non-2xx answer; consumes the body. */
  async statusError(res: HttpResponse, hasSession: boolean): Promise<UpstreamError> {
    const status = res.statusCode;
    if (status === 401) {
      await res.body.dump();
      return this.unauthorized();
    }
    if (status === 404 && hasSession) {
      await res.body.dump();
      return new UpstreamError('session-lost', `upstream "${this.server}" no longer knows our session (HTTP 404); re-initialize`, 404);
    }
    let text = '';
    try {
      text = (await res.body.text()).slice(0, STATUS_BODY_CHARS);
    } catch {
      // The status alone still names the failure.
    }
    return new UpstreamError('http-status', `upstream "${this.server}" answered HTTP ${status}${text ? `: ${text}` : ''}`, status);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => {});
  }
}

export function causeOf(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The Streamable HTTP transport (2025-03-26 and later): one POST per message, an optional GET stream, DELETE at the end. */
export class StreamableHttpTransport implements UpstreamTransport {
  readonly kind = 'http' as const;
  private readonly http: UpstreamHttp;
  private handlers = NOOP_HANDLERS;
  private sessionId?: string;
  private protocolVersion?: string;
  private closed = false;
  private stream?: AbortController;

  constructor(opts: HttpUpstreamOptions) {
    this.http = new UpstreamHttp(opts);
  }

  /** The session id the upstream assigned at initialize, if any. */
  get session(): string | undefined {
    return this.sessionId;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.handlers = handlers;
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  private baseHeaders(accept: string | undefined, withBody: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (accept) h.accept = accept;
    if (withBody) h['content-type'] = 'application/json';
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) h['mcp-protocol-version'] = this.protocolVersion;
    return h;
  }

  async send(msg: JsonRpcMessage, opts?: SendOptions): Promise<void> {
    if (this.closed) throw new UpstreamError('closed', `upstream "${this.http.server}": transport closed`);
    const initializing = msg.method === 'initialize';
    if (initializing) {
      // A new initialize starts a new session: the old id and version must not leak into it.
      this.sessionId = undefined;
      this.protocolVersion = undefined;
      this.stream?.abort();
    }
    const body = JSON.stringify(msg);
    const signal = opts?.signal;
    const deliver = opts?.onmessage ? this.deliverTo(opts.onmessage) : this.deliver;
    const res = await this.http.request({
      method: 'POST',
      url: this.http.url,
      headers: this.baseHeaders(POST_ACCEPT, true),
      body,
      extraHeaders: opts?.headers,
      signal,
      bodyTimeout: opts?.longLived ? 0 : undefined,
    });
    if (!isOk(res.statusCode)) {
      const hadSession = this.sessionId !== undefined;
      // 2026-07-28 servers answer protocol errors (-32020, -32021, -32022, -32601) with a 4xx status
      // and a JSON-RPC error body: that error is the answer to relay, not a transport failure.
      if (
        res.statusCode !== 401 &&
        !(res.statusCode === 404 && hadSession) &&
        (headerValue(res.headers, 'content-type') ?? '').includes('json')
      ) {
        const text = await res.body.text().catch(() => '');
        const answer = rpcErrorFor(text, msg);
        if (answer) {
          deliver(answer);
          return;
        }
        throw new UpstreamError(
          'http-status',
          `upstream "${this.http.server}" answered HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`,
          res.statusCode,
        );
      }
      const err = await this.http.statusError(res, hadSession);
      if (err.failure === 'session-lost') this.sessionId = undefined;
      throw err;
    }
    if (initializing) {
      const sid = headerValue(res.headers, 'mcp-session-id');
      if (sid) this.sessionId = sid;
    }
    if (res.statusCode === 202) {
      await res.body.dump();
      return;
    }
    const type = headerValue(res.headers, 'content-type') ?? '';
    try {
      if (type.includes('text/event-stream')) {
        await this.followResponseStream(res.body, msg, deliver, opts);
        return;
      }
      const text = await res.body.text();
      if (text.length === 0) return;
      if (!type.includes('json')) throw this.protocolError(`answered with content-type "${type || 'none'}"`);
      deliverJson(text, deliver);
    } catch (err) {
      if (!res.body.destroyed) res.body.destroy();
      if (err instanceof SyntaxError) throw this.protocolError(`sent invalid JSON: ${err.message}`);
      throw this.http.failure(err, signal);
    }
  }

  /**
   * Reads a POST's event stream. If it ends before the answer to our request came (2025-11-25 servers may
   * close it after a priming event and let the client poll), the request is resumed with GET + Last-Event-ID.
   */
  private async followResponseStream(
    first: HttpResponse['body'],
    msg: JsonRpcMessage,
    onmessage: (m: unknown) => void,
    opts?: SendOptions,
  ): Promise<void> {
    const signal = opts?.signal;
    const awaited = typeof msg.method === 'string' && 'id' in msg ? msg.id : undefined;
    let answered = awaited === undefined;
    let lastEventId: string | undefined;
    let retryMs = RECONNECT_FIRST_MS;
    const deliver = (m: unknown): void => {
      if (!answered && (m as { id?: unknown } | null)?.id === awaited && !('method' in (m as object))) answered = true;
      onmessage(m);
    };
    const sink = {
      onEvent: (ev: { id?: string; event?: string; data: string }) => {
        if (ev.id !== undefined) lastEventId = ev.id;
        if (ev.event === undefined || ev.event === 'message') deliverJson(ev.data, deliver);
      },
      onRetry: (ms: number) => {
        retryMs = Math.min(Math.max(ms, 0), RECONNECT_MAX_MS);
      },
    };
    let body = first;
    let idle = 0;
    for (;;) {
      const before = lastEventId;
      try {
        await readEventStream(body, sink);
      } catch (err) {
        // A dropped stream is resumable once the server gave us a cursor; anything else is a real failure.
        if (answered || lastEventId === undefined || err instanceof SyntaxError || err instanceof UpstreamError || signal?.aborted)
          throw err;
      }
      if (answered) return;
      if (lastEventId === undefined) {
        throw new UpstreamError('closed', `upstream "${this.http.server}" ended the response stream before answering`);
      }
      idle = lastEventId === before ? idle + 1 : 0;
      if (idle > MAX_IDLE_RESUMES) {
        throw new UpstreamError('closed', `upstream "${this.http.server}" kept ending the response stream without answering`);
      }
      await sleep(retryMs, undefined, { signal });
      const headers = this.baseHeaders('text/event-stream', false);
      headers['last-event-id'] = lastEventId;
      const res = await this.http.request({
        method: 'GET',
        url: this.http.url,
        headers,
        extraHeaders: opts?.headers,
        signal,
        bodyTimeout: opts?.longLived ? 0 : undefined,
      });
      if (!isOk(res.statusCode)) throw await this.http.statusError(res, this.sessionId !== undefined);
      if (!(headerValue(res.headers, 'content-type') ?? '').includes('text/event-stream')) {
        await res.body.dump();
        throw this.protocolError('answered a resumption GET without an event stream');
      }
      body = res.body;
    }
  }

  private onStreamEvent(event: string | undefined, data: string): void {
    if (event === undefined || event === 'message') deliverJson(data, this.deliver);
  }

  /** To the session (handlers are read per message: start() installs them). */
  private readonly deliver = this.deliverTo((msg) => this.handlers.onmessage(msg));

  /** A checked message to `handler`; a handler that throws is logged, never fails the exchange. */
  private deliverTo(handler: (msg: JsonRpcMessage) => void): (msg: unknown) => void {
    return (msg) => {
      if (typeof msg !== 'object' || msg === null) throw this.protocolError('sent a message that is not a JSON object');
      try {
        handler(msg as JsonRpcMessage);
      } catch (err) {
        this.http.log?.warn({ server: this.http.server, err }, 'upstream message handler threw');
      }
    };
  }

  private protocolError(what: string): UpstreamError {
    return new UpstreamError('protocol', `upstream "${this.http.server}" ${what}`);
  }

  openEventStream(): void {
    if (this.closed || this.stream) return;
    const ac = new AbortController();
    this.stream = ac;
    void this.runEventStream(ac).finally(() => {
      if (this.stream === ac) this.stream = undefined;
    });
  }

  /** Keeps the GET stream open for the session it was opened in, reconnecting with backoff after drops. */
  private async runEventStream(ac: AbortController): Promise<void> {
    const { signal } = ac;
    const session = this.sessionId;
    const server = this.http.server;
    let delay = RECONNECT_FIRST_MS;
    let lastEventId: string | undefined;
    while (!this.closed && !signal.aborted && this.sessionId === session) {
      try {
        const headers = this.baseHeaders('text/event-stream', false);
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const res = await this.http.request({ method: 'GET', url: this.http.url, headers, signal, bodyTimeout: 0 });
        const type = headerValue(res.headers, 'content-type') ?? '';
        if (res.statusCode === 405) {
          await res.body.dump();
          return;
        }
        if (!isOk(res.statusCode) || !type.includes('text/event-stream')) {
          const err = isOk(res.statusCode)
            ? (await res.body.dump(), this.protocolError(`answered the event stream GET with content-type "${type || 'none'}"`))
            : await this.http.statusError(res, session !== undefined);
          if (err.failure === 'session-lost' && this.sessionId === session) {
            this.sessionId = undefined;
            if (!this.closed) this.handlers.onclose(err);
            return;
          }
          if (err.failure === 'unauthorized') {
            this.http.log?.warn({ server }, err.message);
            return;
          }
          throw err;
        }
        delay = RECONNECT_FIRST_MS;
        await readEventStream(res.body, {
          onEvent: (ev) => {
            if (ev.id !== undefined) lastEventId = ev.id;
            try {
              this.onStreamEvent(ev.event, ev.data);
            } catch (err) {
              this.http.log?.warn({ server, err: causeOf(err) }, 'skipped an invalid message on the event stream');
            }
          },
          onRetry: (ms) => {
            delay = Math.min(Math.max(ms, 0), RECONNECT_MAX_MS);
          },
        });
      } catch (err) {
        if (signal.aborted || this.closed) return;
        this.http.log?.debug({ server, err: causeOf(err) }, 'event stream dropped; reconnecting');
      }
      try {
        await sleep(delay, undefined, { signal, ref: false });
      } catch {
        return;
      }
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream?.abort();
    if (this.sessionId) {
      try {
        const res = await this.http.request({
          method: 'DELETE',
          url: this.http.url,
          headers: this.baseHeaders(undefined, false),
          headersTimeout: DELETE_TIMEOUT_MS,
          bodyTimeout: DELETE_TIMEOUT_MS,
        });
        await res.body.dump();
      } catch {
        // The upstream may already be gone or may not support DELETE (405); either way we are done with it.
      }
      this.sessionId = undefined;
    }
    await this.http.close();
  }
}

/** The JSON-RPC error response to `sent` carried in an error status body, if that is what it is. */
function rpcErrorFor(text: string, sent: JsonRpcMessage): unknown {
  if (!('id' in sent)) return undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return body && typeof body === 'object' && body.jsonrpc === '2.0' && 'error' in body && body.id === sent.id ? body : undefined;
  } catch {
    return undefined;
  }
}
