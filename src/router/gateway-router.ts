import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import type { Upstream } from '../upstream/upstream.js';
import { PassthroughSession } from './passthrough.js';
import type { RouteScope, RouteSession, Router } from './route.js';
import { ToolPolicy } from './tool-policy.js';

export type AggregateFactory = (scope: RouteScope, profile: ClientProfile, sink: ClientSink) => RouteSession;

/** Picks passthrough for one server and the aggregate catalog for several. */
export class GatewayRouter implements Router {
  /** Per server, built once: most servers have none and so pass through untouched. */
  private readonly policies = new Map<string, ToolPolicy | undefined>();

  constructor(
    private readonly upstreams: Map<string, Upstream>,
    private readonly aggregate?: AggregateFactory,
    settings: { toolPrefixSeparator: string } = { toolPrefixSeparator: '-' },
  ) {
    for (const u of upstreams.values()) this.policies.set(u.name, ToolPolicy.for(u.config, settings.toolPrefixSeparator));
  }

  open(scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession {
    if (!scope.aggregate) {
      const name = scope.servers[0]!;
      return new PassthroughSession(name, this.upstreams.get(name)!.lease(profile, sink), this.policies.get(name));
    }
    if (!this.aggregate) {
      throw new McpError(ErrorCode.InvalidRequest, `Select one server: ${scope.servers.join(', ')}`);
    }
    return this.aggregate(scope, profile, sink);
  }
}
