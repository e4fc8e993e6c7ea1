import { randomBytes } from 'node:crypto';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import type { Upstream } from '../upstream/upstream.js';
import { PassthroughSession } from './passthrough.js';
import type { RouteScope, RouteSession, Router } from './route.js';
import { TaskHandles, TaskMapper } from './tasks.js';
import { ToolPolicy } from './tool-policy.js';

export type AggregateFactory = (scope: RouteScope, profile: ClientProfile, sink: ClientSink) => RouteSession;

/** Picks passthrough for one server and the aggregate catalog for several. */
export class GatewayRouter implements Router {
  /** Per server, built once: most servers have none and so pass through untouched. */
  private readonly policies = new Map<string, ToolPolicy | undefined>();
  private readonly tasks: TaskHandles;

  constructor(
    private readonly upstreams: Map<string, Upstream>,
    private readonly aggregate?: AggregateFactory,
    settings: { toolPrefixSeparator: string; tasks?: TaskHandles } = { toolPrefixSeparator: '-' },
  ) {
    this.tasks = settings.tasks ?? new TaskHandles(randomBytes(32));
    for (const u of upstreams.values()) this.policies.set(u.name, ToolPolicy.for(u.config, settings.toolPrefixSeparator));
  }

  open(scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession {
    if (!scope.aggregate) {
      const name = scope.servers[0]!;
      const tasks = new TaskMapper(this.tasks);
      return new PassthroughSession(name, this.upstreams.get(name)!.lease(profile, tasks.sink(name, sink)), tasks, this.policies.get(name));
    }
    if (!this.aggregate) {
      throw new McpError(ErrorCode.InvalidRequest, `Select one server: ${scope.servers.join(', ')}`);
    }
    return this.aggregate(scope, profile, sink);
  }
}
