import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import type { Lease } from '../upstream/upstream.js';
import type { CallContext, RouteSession } from './route.js';
import { TASK_ID_METHODS, unknownTask, type TaskMapper } from './tasks.js';
import type { ToolPolicy } from './tool-policy.js';

type Result = Record<string, unknown>;

/**
 * One server in scope: every message goes to it unchanged (names untouched), over this client's lease.
 * The gateway answers only `ping` itself; everything else, unknown methods included, is the server's.
 * A server with tool filters or overrides gets them applied to `tools/list` and `tools/call` only.
 */
export class PassthroughSession implements RouteSession {
  constructor(
    private readonly server: string,
    private readonly lease: Lease,
    private readonly tasks: TaskMapper,
    private readonly policy?: ToolPolicy,
  ) {}

  async initialize(ctx: CallContext): Promise<Result> {
    const upstream = await this.lease.initializeResult(ctx.headersFor(this.server));
    const { protocolVersion: _v, ...rest } = upstream;
    return rest;
  }

  async request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    if (method === 'ping') return {};
    if (method === 'initialize') throw new McpError(ErrorCode.InvalidRequest, 'initialize may only be sent once per session');
    this.tasks.bind(ctx.caller.keyId);
    if (TASK_ID_METHODS.has(method)) {
      // Task ids are handles bound to the key that created the task; the server gets its own id.
      const t = this.tasks.target(params);
      if (t.server !== this.server) throw unknownTask();
      params = { ...params, taskId: t.taskId };
    }
    const policy = this.policy;
    if (policy && method === 'tools/call' && isObject(params) && typeof params.name === 'string') {
      params = { ...params, name: policy.resolveCall(params.name) };
    }
    const result = await this.lease.request(method, params, {
      signal: ctx.signal,
      callerKeyId: ctx.caller.keyId,
      headers: ctx.headersFor(this.server),
      onProgress: ctx.onProgress && hasProgressToken(params) ? ctx.onProgress : undefined,
    });
    if (policy && method === 'tools/list') return { ...result, tools: policy.present(result.tools) };
    return method === 'tools/call' || method === 'tasks/list' || TASK_ID_METHODS.has(method)
      ? this.tasks.result(this.server, method, result)
      : result;
  }

  notify(method: string, params: Result | undefined, ctx: CallContext): Promise<void> {
    if (method === 'notifications/initialized' || method === 'notifications/cancelled') return Promise.resolve();
    return this.lease.notify(method, params, ctx.headersFor(this.server));
  }

  close(): Promise<void> {
    return this.lease.release();
  }
}

export function hasProgressToken(params: Result | undefined): boolean {
  return isObject(params) && isObject(params._meta) && params._meta.progressToken !== undefined;
}
