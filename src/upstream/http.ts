import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import { headerValue, isOk, NOOP_HANDLERS, UpstreamHttp, type HttpResponse, type HttpUpstreamOptions } from './http-client.js';
import { signalOf } from '../mcp/lazy-abort.js';
import { deliverJson, readEventStream } from './sse-parse.js';
import { UpstreamError, type SendOptions, type TransportHandlers, type UpstreamTransport } from './transport.js';

export { UpstreamHttp, type HttpUpstreamOptions } from './http-client.js';

const POST_ACCEPT = 'application/json, text/event-stream';
const DELETE_TIMEOUT_MS = 5_000;
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Resumptions in a row that bring no new event before a request is given up. */
const MAX_IDLE_RESUMES = 5;
/** A JSON-RPC error in an error status body is read whole up to this (its data may be more than a snippet). */
const JSON_ERROR_BYTES = 64 * 1024;

/** The Streamable HTTP transport (2025-03-26 and later): one POST per message, an optional GET stream, DELETE at the end. */
export class StreamableHttpTransport implements UpstreamTransport {
  readonly kind = 'http' as const;
  private readonly http: UpstreamHttp;
  private handlers = NOOP_HANDLERS;
  private sessionId?: string;
  private protocolVersion?: string;
  private closed = false;
  private stream?: AbortController;
  /** The last POST failed to connect: a 400 for our session id now means the server restarted. */
  private connectionLost = false;

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
    let res: HttpResponse;
    try {
      res = await this.http.request({
        method: 'POST',
        url: this.http.url,
        headers: this.baseHeaders(POST_ACCEPT, true),
        body,
        extraHeaders: opts?.headers,
        signal,
        bodyTimeout: opts?.longLived ? 0 : undefined,
      });
    } catch (err) {
      // A server that went away and comes back has forgotten our session, however it words it.
      if (err instanceof UpstreamError && (err.failure === 'unreachable' || err.failure === 'closed')) this.connectionLost = true;
      throw err;
    }
    if (!isOk(res.statusCode)) {
      const hadSession = this.sessionId !== undefined;
      const json = res.statusCode !== 401 && (headerValue(res.headers, 'content-type') ?? '').includes('json');
      const text = res.statusCode === 401 ? '' : await this.http.snippet(res, json ? JSON_ERROR_BYTES : undefined);
      // 2026-07-28 servers answer protocol errors (-32020, -32021, -32022, -32601) with a 4xx status
      // and a JSON-RPC error body: that error is the answer to relay, not a transport failure.
      if (json && !(res.statusCode === 404 && hadSession)) {
        const answer = rpcErrorFor(text, msg);
        if (answer) {
          deliver(answer);
          return;
        }
      }
      const err = await this.http.statusError(res, hadSession, text, this.connectionLost);
      if (err.failure === 'session-lost') this.sessionId = undefined;
      throw err;
    }
    this.connectionLost = false;
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
        opts?.relay?.opened();
        await this.followResponseStream(res.body, msg, deliver, opts);
        return;
      }
      const text = await this.http.text(res);
      if (text.length === 0) return;
      if (!type.includes('json')) throw this.protocolError(`answered with content-type "${type || 'none'}"`);
      deliverJson(text, deliver, this.http.redactor);
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
        if (ev.event === undefined || ev.event === 'message') deliverJson(ev.data, deliver, this.http.redactor);
      },
      onRetry: (ms: number) => {
        retryMs = Math.min(Math.max(ms, 0), RECONNECT_MAX_MS);
        opts?.relay?.retry(retryMs);
      },
    };
    let body = first;
    let idle = 0;
    for (;;) {
      const before = lastEventId;
      try {
        await readEventStream(body, sink, this.http.eventLimit);
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
      // The server asked its client to poll: the gateway's client is told to as well, while we resume here.
      opts?.relay?.paused();
      // Timers take only an AbortSignal: the exchange makes one now, on this rare path.
      await sleep(retryMs, undefined, { signal: signalOf(signal) });
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
    if (event === undefined || event === 'message') deliverJson(data, this.deliver, this.http.redactor);
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
        await readEventStream(
          res.body,
          {
            onEvent: (ev) => {
              if (ev.id !== undefined) lastEventId = ev.id;
              try {
                this.onStreamEvent(ev.event, ev.data);
              } catch (err) {
                this.http.log?.warn({ server, err: this.http.cause(err) }, 'skipped an invalid message on the event stream');
              }
            },
            onRetry: (ms) => {
              delay = Math.min(Math.max(ms, 0), RECONNECT_MAX_MS);
            },
          },
          this.http.eventLimit,
        );
      } catch (err) {
        if (signal.aborted || this.closed) return;
        this.http.log?.debug({ server, err: this.http.cause(err) }, 'event stream dropped; reconnecting');
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
