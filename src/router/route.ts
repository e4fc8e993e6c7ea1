import type { Caller } from '../caller/keys.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';

type Result = Record<string, unknown>;

/** What one downstream request carries into the router. */
export interface CallContext {
  caller: Caller;
  /** Aborted when the client cancels (notifications/cancelled) or goes away. */
  signal: AbortSignal;
  /** Progress from upstream, already stripped of its token; the edge adds the client's own. */
  onProgress?: (params: Result) => void;
  /** Per-request headers for one upstream server (x-mcp-{server}-*, extra_headers). */
  headersFor(server: string): Record<string, string> | undefined;
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

/** Which endpoint a session belongs to: a request on another endpoint must not reach it. Bare `/mcp` is one endpoint whatever servers it holds now. */
export function scopeKey(scope: RouteScope): string {
  return scope.all ? (scope.aggregate ? 'agg:*' : 'one:*') : (scope.aggregate ? 'agg:' : 'one:') + scope.servers.join(',');
}

export interface Router {
  open(scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession;
}
