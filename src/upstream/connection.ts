import type { JsonRpcNotification, JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { Cancel } from '../mcp/lazy-abort.js';
import type { StateTokens } from '../mcp/state-token.js';
import type { ClientSink } from './profile.js';
import type { StreamRelay } from './transport.js';

type Result = Record<string, unknown>;

export interface RequestOptions {
  signal?: Cancel;
  timeoutMs?: number;
  /** Per-request headers for HTTP upstreams (x-mcp-{server}-* credentials, extra_headers). */
  headers?: Record<string, string>;
  /** Receives upstream progress for this request; the caller puts its own token back. */
  onProgress?: (params: Record<string, unknown>) => void;
  /** Who asks (key id): binds requestState wrapped for stateless clients to them. */
  callerKeyId?: string;
  /**
   * 2026-07-28 upstreams: the notifications (log messages, ...) sent on this request's own response
   * stream. They belong to this caller alone; without a receiver they are dropped, never fanned out.
   */
  onNotification?: (msg: JsonRpcNotification) => void;
  /** The edge's mirror of an upstream event stream answering this request (see StreamRelay). */
  relay?: StreamRelay;
}

/** Who a call is made for: what the era-specific connection needs to serve it as that client expects. */
export interface CallContext {
  readonly server: string;
  /** Asked for input when a 2026 upstream answers `input_required` for a session client. */
  sink: ClientSink;
  /** The client's declared capabilities (which input requests it may be handed). */
  capabilities: Record<string, unknown>;
  /** The client's log level where the upstream takes it per request (2026-07-28). */
  level?: string;
  /** A stateless client: `input_required` goes back to it with the upstream's state wrapped. */
  stateless: boolean;
  stateTokens?: StateTokens;
  /** Messages on this request's own stream (2026-07-28): this client's alone. */
  deliverOwn(msg: JsonRpcNotification): void;
}

/**
 * One upstream session as the request path sees it, whichever era the server speaks: a 2025 session
 * (initialize + session id) or a 2026-07-28 stateless "session" (discover + per-request envelope).
 * Leases call `call` and never ask which one they hold.
 */
export interface UpstreamConnection {
  readonly server: string;
  initializeResult?: Result;
  readonly closed: boolean;
  readonly inFlight: number;
  onNotification: (msg: JsonRpcNotification) => void;
  onServerRequest: (msg: JsonRpcRequest) => Promise<Result>;
  onClose: (err: Error) => void;
  /** Called once when the session ends, closed or lost (session accounting). */
  onEnded?: () => void;
  /** A request as one client makes it: 2026 input rounds and per-request log levels handled here. */
  call(method: string, params: Result | undefined, opts: RequestOptions, ctx: CallContext): Promise<Result>;
  /** The raw request, for the gateway's own use (listings, resubscribing). */
  request(method: string, params: Result | undefined, opts?: RequestOptions): Promise<Result>;
  notify(method: string, params?: Result, headers?: Record<string, string>): Promise<void>;
  /** Keep receiving the server's unsolicited changes (2026: a listen; 2025: the GET stream is already open). */
  listenForChanges(): void;
  close(): Promise<void>;
}
