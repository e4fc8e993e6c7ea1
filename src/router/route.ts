import type { Caller } from '../caller/keys.js';
import type { McpError } from '../mcp/jsonrpc.js';
import type { Cancel } from '../mcp/lazy-abort.js';
import type { Target, TargetKind } from '../mcp/target.js';
import type { Forward, ToolCall } from '../policy/hooks.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import type { StreamRelay } from '../upstream/transport.js';

type Result = Record<string, unknown>;

/** What one downstream request carries into the router. */
export interface CallContext {
  caller: Caller;
  /**
   * Fires when the client cancels (notifications/cancelled) or goes away. Usually a LazyAbort: most
   * calls are never cancelled, so no AbortController or listener is made for them.
   */
  signal: Cancel;
  /** Progress from upstream, already stripped of its token; the edge adds the client's own. */
  onProgress?: (params: Result) => void;
  /** Per-request headers for one upstream server (x-mcp-{server}-*, extra_headers). */
  headersFor(server: string): Record<string, string> | undefined;
  /** Mirrors an upstream event stream answering the request to a client that accepts SSE. */
  relay?: StreamRelay;
}

/**
 * A downstream client's view of the servers in its scope. One server: transparent passthrough.
 * Several: the aggregate catalog. The edge only ever talks to this interface.
 */
export interface RouteSession {
  /** The result of the client's `initialize` (without protocolVersion; the edge negotiates that). */
  initialize(ctx: CallContext): Promise<Result>;
  request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result>;
  notify(method: string, params: Result | undefined, ctx: CallContext): Promise<void>;
  close(): Promise<void>;
}

export interface RouteScope {
  /** Servers the client selected (already checked to exist and to be allowed). */
  servers: string[];
  /** True when the client asked for an aggregate (several servers or /mcp without selector). */
  aggregate: boolean;
  /**
   * Nothing was selected: the scope is every server the caller may use, as the registry has them at
   * each request, so an aggregate session sees servers added after it started. `servers` is the set at open.
   */
  all?: boolean;
}

/** A server's own tool naming settings as the routers apply them (display names, descriptions). */
export interface ToolNaming {
  /** Display name and description overrides on one listed tool (a copy; unknown fields kept). */
  present(tool: Record<string, unknown>): Record<string, unknown>;
  /** The upstream name for a call by the name a one-server listing showed. */
  originalName(called: string): string;
}

/**
 * What the routers ask before they list or forward: the policy stage (src/policy) implements it,
 * and is handed to the routers, so the router never imports the stage above it on the request path.
 */
export interface RoutePolicy {
  /** Nothing on this server can be hidden from or refused to this caller: relay untouched. */
  untouched(caller: Caller, server: string): boolean;
  serverVisible(caller: Caller, server: string): boolean;
  /** Throws the refusal when the request on `t` is not admitted. */
  admit(caller: Caller, t: Target, called?: string): void;
  /** A tools/call must go through `call` even on an untouched server (it is recorded). */
  recorded(caller: Caller, server: string): boolean;
  /** One tools/call through the policy pipeline (access, limits, budgets, guardrails, recording), then `forward`. */
  call(t: ToolCall, forward: Forward): Promise<Result>;
  /** A client's tools/list on these servers, begun at `started` (performance.now()), was answered or failed: a spend log row. */
  listed(caller: Caller, servers: readonly string[], started: number, failed?: boolean): void;
  /** An aggregate tools/call whose name no server in scope lists was refused before reaching any (a spend log row). */
  unresolved(caller: Caller, called: string, servers: readonly string[], started: number): void;
  /** What a caller's listings depend on (grants and anything else that rewrites them): cache and cursor key. */
  listingKey(caller: Caller): string;
  /** One server's listing of one kind as this caller may see it. */
  filter(caller: Caller, server: string, kind: TargetKind, items: readonly Record<string, unknown>[]): Record<string, unknown>[];
  /** The server's naming settings; undefined when it has none. */
  naming(server: string): ToolNaming | undefined;
  /** Why a called tool name is in no listing, when the server's own settings hid it (else undefined: it is unknown). */
  explainHidden(server: string, called: string, listed: readonly Record<string, unknown>[]): McpError | undefined;
}

/** Which endpoint a session belongs to: a request on another endpoint must not reach it. Bare `/mcp` is one endpoint whatever servers it holds now. */
export function scopeKey(scope: RouteScope): string {
  return scope.all ? (scope.aggregate ? 'agg:*' : 'one:*') : (scope.aggregate ? 'agg:' : 'one:') + scope.servers.join(',');
}

export interface Router {
  open(scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession;
}
