import type { Caller } from '../caller/keys.js';
import {
  ErrorCode,
  McpError,
  isObject,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../mcp/jsonrpc.js';
import type { RouteSession } from '../router/route.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import { callContext, type HeadersFor } from './call-context.js';
import { LazyAbort } from '../mcp/lazy-abort.js';
import { errorReason, toErrorResponse } from './error-catalogue.js';
import { requestShapeError } from './request-checks.js';
import { noteUpstreamTime, type RequestLog } from './request-log.js';
import type { ReplyChannel as Responder } from './responder.js';
import { ResumableStreams } from './resumable.js';
import type { SseStream } from './sse.js';

const BACKLOG_LIMIT = 256;
/** How long an upstream's sampling/elicitation request may wait for the human behind the client. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60_000;

interface InFlight {
  abort: LazyAbort;
  responder: Responder;
}

interface ClientRequest {
  resolve(result: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Which client capability a server-to-client request needs. */
const REQUIRED_CAPABILITY: ReadonlyMap<string, string> = new Map([
  ['sampling/createMessage', 'sampling'],
  ['elicitation/create', 'elicitation'],
  ['roots/list', 'roots'],
]);

/**
 * One downstream MCP session (2025 era and older): its negotiated version and capabilities, its
 * route to the servers in scope, its GET stream, in-flight requests and the server-to-client
 * requests waiting for its answers.
 */
export class DownstreamSession implements ClientSink {
  route!: RouteSession;
  lastSeen = Date.now();
  getStream?: SseStream;
  closed = false;
  /** Answers relayed from upstream event streams, which the client may resume with Last-Event-ID. */
  readonly resumable = new ResumableStreams();

  private readonly backlog: JsonRpcNotification[] | JsonRpcRequest[] = [];
  private readonly inflight = new Map<string, InFlight>();
  private readonly clientRequests = new Map<string, ClientRequest>();
  private nextClientRequestId = 1;
  /** Responders of in-flight requests in arrival order; server-to-client requests ride the newest. */
  private readonly openResponders: Responder[] = [];

  constructor(
    readonly id: string,
    readonly caller: Caller,
    readonly scopeKey: string,
    readonly profile: ClientProfile,
    private readonly headersFor: HeadersFor,
    /** A GET stream whose client has not read for this long no longer keeps the session alive. */
    private readonly stallMs = Infinity,
  ) {}

  get protocolVersion(): string {
    return this.profile.protocolVersion;
  }

  /** Run one client request through the route and answer it on its responder. */
  /** `log` is the HTTP request's log line when the answer goes on that request's response (not on an SSE stream). */
  handleRequest(msg: JsonRpcRequest, responder: Responder, headersFor = this.headersFor, log?: RequestLog): void {
    const refused = requestShapeError(msg);
    if (refused) {
      if (log) log.reason = errorReason(refused);
      return responder.finish(toErrorResponse(msg.id, refused));
    }
    const key = idKey(msg.id);
    const abort = new LazyAbort();
    this.inflight.set(key, { abort, responder });
    this.openResponders.push(responder);
    const ctx = callContext(this.caller, headersFor, msg, responder, abort);
    const started = performance.now();
    this.route.request(msg.method, msg.params, ctx).then(
      (result) => {
        noteUpstreamTime(log, started);
        this.done(key, responder, { jsonrpc: '2.0', id: msg.id, result });
      },
      (err: unknown) => {
        noteUpstreamTime(log, started);
        if (log) log.reason = errorReason(err);
        this.done(key, responder, toErrorResponse(msg.id, err));
      },
    );
  }

  /** A notification or a response from the client. */
  handleClientMessage(msg: JsonRpcNotification | JsonRpcResponse, headersFor = this.headersFor): void {
    if (typeof msg.method === 'string') {
      const note = msg as JsonRpcNotification;
      if (note.method === 'notifications/cancelled' && isObject(note.params)) {
        const params = note.params;
        const id = params.requestId;
        if (typeof id === 'string' || typeof id === 'number') {
          const reason = typeof params.reason === 'string' ? params.reason : 'cancelled by client';
          this.inflight.get(idKey(id))?.abort.abort(reason);
        }
        return;
      }
      this.route.notify(note.method, note.params, callContext(this.caller, headersFor, undefined, undefined)).catch(() => {});
      return;
    }
    const response = msg as JsonRpcResponse;
    const pending = this.clientRequests.get(idKey(response.id as JsonRpcId));
    if (!pending) return;
    this.clientRequests.delete(idKey(response.id as JsonRpcId));
    clearTimeout(pending.timer);
    if ('error' in response) {
      pending.reject(McpError.fromWire(response.error));
    } else pending.resolve(isObject(response.result) ? response.result : {});
  }

  notify(msg: JsonRpcNotification): void {
    if (this.closed) return;
    if (this.getStream && this.getStream.send(msg)) return;
    this.queue(msg);
  }

  request(msg: JsonRpcRequest): Promise<Record<string, unknown>> {
    const needed = REQUIRED_CAPABILITY.get(msg.method);
    if (needed && !(needed in this.profile.capabilities)) {
      return Promise.reject(new McpError(ErrorCode.MethodNotFound, `Client does not support ${msg.method}`));
    }
    if (this.closed) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, 'client session closed'));
    const id = `tg-${this.nextClientRequestId++}`;
    const out: JsonRpcRequest = { ...msg, id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.clientRequests.delete(idKey(id));
        reject(new McpError(ErrorCode.RequestTimeout, `client did not answer ${msg.method}`));
      }, CLIENT_REQUEST_TIMEOUT_MS);
      timer.unref();
      this.clientRequests.set(idKey(id), { resolve, reject, timer });
      // The newest in-flight POST stream is the request this most likely belongs to; else the GET stream.
      for (let i = this.openResponders.length - 1; i >= 0; i--) {
        if (this.openResponders[i]!.related(out)) return;
      }
      if (this.getStream && this.getStream.send(out)) return;
      this.queue(out);
    });
  }

  attachGetStream(stream: SseStream): void {
    this.getStream = stream;
    stream.onClose = () => {
      if (this.getStream === stream) this.getStream = undefined;
    };
    const pending = this.backlog.splice(0);
    for (const m of pending) stream.send(m);
  }

  /** In use: a request in flight, or a GET stream its client still reads (a stalled one does not count). */
  get busy(): boolean {
    if (this.inflight.size > 0) return true;
    const stream = this.getStream;
    return stream !== undefined && !stream.closed && stream.stalledFor() < this.stallMs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.inflight.values()) f.abort.abort('session closed');
    for (const p of this.clientRequests.values()) {
      clearTimeout(p.timer);
      p.reject(new McpError(ErrorCode.ConnectionClosed, 'client session closed'));
    }
    this.clientRequests.clear();
    this.getStream?.end();
    this.resumable.close();
    await this.route?.close();
  }

  private done(key: string, responder: Responder, response: JsonRpcResponse): void {
    this.inflight.delete(key);
    const i = this.openResponders.indexOf(responder);
    if (i >= 0) this.openResponders.splice(i, 1);
    responder.finish(response);
  }

  private queue(msg: JsonRpcNotification | JsonRpcRequest): void {
    const backlog = this.backlog as (JsonRpcNotification | JsonRpcRequest)[];
    if (backlog.length >= BACKLOG_LIMIT) backlog.shift();
    backlog.push(msg);
  }
}

function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? 'n' + id : 's' + id;
}
