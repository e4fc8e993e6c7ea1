import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import { PassthroughSession, type PassthroughDeps } from './passthrough.js';
import type { RouteScope, RouteSession, Router } from './route.js';
import { TaskMapper, type TaskHandles } from './tasks.js';

export type AggregateFactory = (scope: RouteScope, profile: ClientProfile, sink: ClientSink) => RouteSession;

/** Picks passthrough for one server and the aggregate catalog for several. */
export class GatewayRouter implements Router {
  constructor(
    private readonly deps: PassthroughDeps & { tasks: TaskHandles },
    private readonly aggregate?: AggregateFactory,
  ) {}

  open(scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession {
    if (!scope.aggregate) {
      const name = scope.servers[0]!;
      return new PassthroughSession(name, this.deps, profile, sink, new TaskMapper(this.deps.tasks));
    }
    if (!this.aggregate) {
      throw new McpError(ErrorCode.InvalidRequest, `Select one server: ${scope.servers.join(', ')}`);
    }
    return this.aggregate(scope, profile, sink);
  }
}
