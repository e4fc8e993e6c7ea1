import {
  ErrorCode,
  McpError,
  isObject,
  isRequest,
  isResponse,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '../mcp/jsonrpc.js';
import { isSupportedLegacyVersion } from '../mcp/versions.js';
import type { CallContext, RequestOptions, UpstreamConnection } from './connection.js';
import { LazyAbort, onCancel } from '../mcp/lazy-abort.js';
import { NO_REDACTION, type Redactor } from './redact.js';
import { UpstreamError, type SendOptions, type UpstreamTransport } from './transport.js';

export interface InitializeParams {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
}

export type { RequestOptions } from './connection.js';

type Result = Record<string, unknown>;

/**
 * The upstream did not answer within its timeout. Still the JSON-RPC timeout clients expect, but
 * told apart from a client's own cancel: only this one says the server is unwell (readiness).
 */
export class UpstreamTimeoutError extends McpError {
  constructor(message: string) {
    super(ErrorCode.RequestTimeout, message);
  }
}

interface Pending {
  method: string;
  resolve(result: Result): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  timeoutMs: number;
  onProgress?: (params: Record<string, unknown>) => void;
  onNotification?: (msg: JsonRpcNotification) => void;
  /**
   * Ends the request's own HTTP exchange once nobody waits for its answer: a plain object the
   * transport binds its live dispatch's abort to, not an AbortController (no EventTarget per request).
   */
  exchange: LazyAbort;
}

/**
 * One initialized MCP session with an upstream server: JSON-RPC ids, timeouts, progress tokens and
 * cancellation on top of a raw transport. Payloads pass through as parsed JSON, never through schemas.
 */
export class UpstreamSession implements UpstreamConnection {
  initializeResult?: Result;
  protocolVersion?: string;
  closed = false;
  /** Unsolicited notifications (list_changed, message, resources/updated, ...). */
  onNotification: (msg: JsonRpcNotification) => void = () => {};
  /** Server-to-client requests (sampling, elicitation, roots/list, ping). */
  onServerRequest: (msg: JsonRpcRequest) => Promise<Result> = async (msg) => {
    if (msg.method === 'ping') return {};
    throw new McpError(ErrorCode.MethodNotFound, `Client does not support ${msg.method}`);
  };
  /** The session ended without close() being called (child exited, stream lost). */
  onClose: (err: Error) => void = () => {};
  onEnded?: () => void;

  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly server: string,
    protected readonly transport: UpstreamTransport,
    private readonly defaultTimeoutMs: number,
    protected readonly redactor: Redactor = NO_REDACTION,
  ) {}

  get kind(): UpstreamTransport['kind'] {
    return this.transport.kind;
  }

  async initialize(params: InitializeParams, headers?: Record<string, string>): Promise<Result> {
    await this.transport.start({ onmessage: (m) => this.dispatch(m), onclose: (e) => this.lost(e) });
    const result = await this.request('initialize', params as unknown as Result, { headers });
    const version = result.protocolVersion;
    if (typeof version !== 'string' || !isSupportedLegacyVersion(version)) {
      await this.close();
      throw new UpstreamError(
        'protocol',
        `upstream "${this.server}" answered initialize with unsupported protocol version ${JSON.stringify(version)}`,
      );
    }
    this.protocolVersion = version;
    this.transport.setProtocolVersion(version);
    await this.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }, { headers });
    this.transport.openEventStream?.();
    this.initializeResult = result;
    return result;
  }

  /** A 2025 session: one conversation, so a client's request is the request (levels are set session-wide). */
  call(method: string, params: Result | undefined, opts: RequestOptions, ctx: CallContext): Promise<Result> {
    if (ctx.stateless && params && typeof params.requestState === 'string') {
      // A 2025-era upstream never issued state: whatever the client sends is not ours to trust.
      return Promise.reject(new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState'));
    }
    return this.request(method, params, opts);
  }

  /** The GET stream opened at initialize already brings the server's changes. */
  listenForChanges(): void {}

  /** Send a request and resolve with its raw `result`; upstream JSON-RPC errors reject as McpError. */
  request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    if (this.closed) return Promise.reject(new UpstreamError('closed', `upstream "${this.server}" session is closed`));
    const id = this.nextId++;
    let outParams = params;
    const meta = params && isObject(params._meta) ? params._meta : undefined;
    if (opts.onProgress) {
      // Our own token (the upstream id) keeps tokens of different downstream clients apart.
      outParams = { ...params, _meta: { ...meta, progressToken: id } };
    } else if (meta && 'progressToken' in meta) {
      const { progressToken: _dropped, ...rest } = meta;
      outParams = { ...params, _meta: rest };
    }
    const msg: JsonRpcRequest =
      outParams === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params: outParams };
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<Result>((resolve, reject) => {
      const entry: Pending = {
        method,
        resolve,
        reject,
        timeoutMs,
        onProgress: opts.onProgress,
        onNotification: opts.onNotification,
        exchange: new LazyAbort(),
      };
      this.pending.set(id, entry);
      this.arm(id, entry);
      const cancel = opts.signal;
      if (cancel) {
        // Cancelled before it was sent: the upstream never hears of it, so no notifications/cancelled either.
        if (cancel.aborted) return this.abandon(id, cancelled(cancel.reason));
        const done = onCancel(cancel, (reason) => this.cancel(id, reason));
        entry.resolve = (r) => (done(), resolve(r));
        entry.reject = (e) => (done(), reject(e));
      }
      const send: SendOptions = { headers: opts.headers, signal: entry.exchange, relay: opts.relay };
      if (this.requestScoped) send.onmessage = (m) => this.dispatch(m, id);
      this.transport.send(msg, send).catch((err: Error) => this.settle(id, undefined, err));
    });
  }

  notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void> {
    const msg: JsonRpcNotification = params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    return this.transport.send(msg, { headers });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ended();
    this.failAll(new UpstreamError('closed', `upstream "${this.server}" session closed`));
    await this.transport.close().catch(() => {});
  }

  /**
   * Whether notifications read from a request's own response stream belong to that request alone
   * (2026-07-28), rather than to the session as a whole (2025, where the session is one conversation).
   */
  protected get requestScoped(): boolean {
    return false;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private arm(id: number, entry: Pending): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      this.sendCancel(id, 'timeout');
      this.abandon(
        id,
        new UpstreamTimeoutError(`upstream "${this.server}" did not answer ${entry.method} within ${entry.timeoutMs / 1000} s`),
      );
    }, entry.timeoutMs);
  }

  private cancel(id: number, reason: unknown): void {
    if (!this.pending.has(id)) return;
    this.sendCancel(id, reasonText(reason));
    this.abandon(id, cancelled(reason));
  }

  private sendCancel(id: number, reason: string): void {
    if (this.closed) return;
    this.notify('notifications/cancelled', { requestId: id, reason }).catch(() => {});
  }

  /**
   * Settle a request nobody will get an answer for (cancelled, timed out, session gone). Its HTTP
   * exchange is aborted too: otherwise it would hold an upstream connection, and the gateway's
   * shutdown, until the server decided to answer.
   */
  private abandon(id: number, err: Error): void {
    const entry = this.pending.get(id);
    this.settle(id, undefined, err);
    entry?.exchange.abort(err);
  }

  private settle(id: number, result: Result | undefined, err?: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (err) entry.reject(err);
    else entry.resolve(result!);
  }

  /** `origin`: the id of the request on whose own response stream the message came, when known. */
  protected dispatch(msg: JsonRpcMessage, origin?: number): void {
    if (isResponse(msg)) {
      const id = typeof msg.id === 'number' ? msg.id : Number(msg.id);
      if ('error' in msg) {
        const e = McpError.fromWire(msg.error);
        // The server's own words may quote what we sent it (an Authorization header, an env secret).
        this.settle(id, undefined, new McpError(e.code, this.redactor.redact(e.message), this.redactor.redactValue(e.data)));
      } else {
        this.settle(id, isObject(msg.result) ? msg.result : {});
      }
      return;
    }
    if (isRequest(msg)) {
      this.onServerRequest(msg).then(
        (result) => this.reply({ jsonrpc: '2.0', id: msg.id, result }),
        (err: unknown) => {
          const e =
            err instanceof McpError
              ? err.toJson()
              : { code: ErrorCode.InternalError, message: err instanceof Error ? err.message : String(err) };
          this.reply({ jsonrpc: '2.0', id: msg.id, error: e });
        },
      );
      return;
    }
    const note = msg as JsonRpcNotification;
    if (note.method === 'notifications/progress' && isObject(note.params)) {
      const token = note.params.progressToken;
      const entry = this.pending.get(typeof token === 'number' ? token : Number(token));
      if (entry?.onProgress) {
        this.arm(typeof token === 'number' ? token : Number(token), entry); // progress resets the timeout
        entry.onProgress(note.params);
      }
      return;
    }
    if (note.method === 'notifications/cancelled') return; // upstream cancelling its own server->client request: nothing to relay yet
    if (origin !== undefined && !note.method.endsWith('/list_changed')) {
      // On a shared session, a message produced for one client's request must not reach the others.
      this.pending.get(origin)?.onNotification?.(note);
      return;
    }
    this.onNotification(note);
  }

  private reply(msg: JsonRpcMessage): void {
    if (this.closed) return;
    this.transport.send(msg).catch(() => {});
  }

  protected lost(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.ended();
    const reason = err ?? new UpstreamError('closed', `upstream "${this.server}" connection closed`);
    this.failAll(reason);
    this.onClose(reason);
  }

  private ended(): void {
    const hook = this.onEnded;
    this.onEnded = undefined;
    hook?.();
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.abandon(id, err);
  }
}

const reasonText = (reason: unknown): string => (typeof reason === 'string' ? reason : 'cancelled by client');
const cancelled = (reason: unknown): McpError => new McpError(ErrorCode.RequestTimeout, `request cancelled: ${reasonText(reason)}`);
