import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { Cancel } from '../mcp/lazy-abort.js';

/**
 * One connection to an upstream MCP server, carrying raw JSON-RPC messages both ways.
 * A transport knows the wire (Streamable HTTP, legacy SSE, stdio) and credentials; it knows nothing of
 * JSON-RPC ids or MCP methods beyond what the wire needs (the session id from `initialize`, the
 * protocol version header). `upstream/session.ts` builds requests/responses on top.
 */
export interface TransportHandlers {
  /** Every message the upstream sends: responses, notifications, server-to-client requests. */
  onmessage(msg: JsonRpcMessage): void;
  /** The connection ended (child exited, stream dropped for good, session lost). Not called after close(). */
  onclose(error?: Error): void;
}

export interface SendOptions {
  /** Headers for this one upstream request (per-request credentials, extra_headers); they win over configured ones. */
  headers?: Record<string, string>;
  /** Aborts an in-flight HTTP exchange: an AbortSignal, or the session's lighter LazyAbort. */
  signal?: Cancel;
  /**
   * HTTP: messages read from this exchange's own response go here instead of the transport's
   * onmessage. 2026-07-28 sends a request's progress and log messages on that request's stream
   * only, so the session can tell whose they are.
   */
  onmessage?: (msg: JsonRpcMessage) => void;
  /** A response meant to stay open (subscriptions/listen): no limit on silence between events. */
  longLived?: boolean;
  /** Told how the upstream streams this request's answer (HTTP), for a client that takes it as a stream too. */
  relay?: StreamRelay;
}

/**
 * How an upstream answers one request on an event stream, for the edge to mirror to a client that
 * accepts SSE: the stream opening, the server's reconnection delay, and the server ending the stream
 * before its answer (SEP-1699 polling), after which the gateway resumes it upstream on its own while
 * the client polls the gateway. Messages themselves travel the usual way (progress, server requests, the result).
 */
export interface StreamRelay {
  opened(): void;
  retry(ms: number): void;
  paused(): void;
}

export interface UpstreamTransport {
  readonly kind: 'http' | 'sse' | 'stdio';
  /** Connect: spawn the child, open the SSE stream and wait for its endpoint; no-op for Streamable HTTP. */
  start(handlers: TransportHandlers): Promise<void>;
  /**
   * Send one message. Resolves once the upstream accepted it (HTTP: the POST answered and any response
   * body was consumed and dispatched through onmessage). Rejects with an UpstreamError on failure.
   */
  send(msg: JsonRpcMessage, opts?: SendOptions): Promise<void>;
  /** After initialize: the negotiated version, sent as MCP-Protocol-Version on later HTTP requests. */
  setProtocolVersion(version: string): void;
  /** Streamable HTTP only: open the GET stream for server-initiated messages (after notifications/initialized). */
  openEventStream?(): void;
  /** End the connection: DELETE the HTTP session, close the SSE stream, stop the child. Idempotent. */
  close(): Promise<void>;
}

/** Why an upstream exchange failed, in words that name the fix. Never contains credentials. */
export type UpstreamFailure =
  | 'unreachable' // connection refused / DNS / reset before an answer
  | 'timeout'
  | 'http-status' // a non-2xx answer
  | 'session-lost' // HTTP 404 for our session id: re-initialize
  | 'unauthorized' // HTTP 401
  | 'protocol' // the upstream spoke something that is not MCP
  | 'closed'; // the child exited / stream closed

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** The slice of a pino logger the transports use; a pino `Logger` satisfies it. */
export interface TransportLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
