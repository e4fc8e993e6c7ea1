import type { Caller } from '../caller/keys.js';
import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import type { TargetKind } from '../mcp/target.js';
import type { Cancel } from '../mcp/lazy-abort.js';
import { removedServer, type ServerSource } from '../registry/registry.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import type { Lease, Upstream } from '../upstream/upstream.js';
import type { CallContext, RoutePolicy, RouteSession } from './route.js';
import { upstreamHeaders } from './param-headers.js';
import { TASK_ID_METHODS, unknownTask, type TaskMapper } from './tasks.js';

type Result = Record<string, unknown>;

/** Listings the policy filters on a one-server endpoint: method -> what its items are and where they are. */
const LISTED = new Map<string, { kind: TargetKind; field: string }>([
  ['tools/list', { kind: 'tool', field: 'tools' }],
  ['prompts/list', { kind: 'prompt', field: 'prompts' }],
  ['resources/list', { kind: 'resource', field: 'resources' }],
  ['resources/templates/list', { kind: 'template', field: 'resourceTemplates' }],
]);

/** Requests the policy admits on a one-server endpoint: method -> the target kind and the param that names it. */
const TARGETED = new Map<string, { kind: TargetKind; param: string }>([
  ['tools/call', { kind: 'tool', param: 'name' }],
  ['prompts/get', { kind: 'prompt', param: 'name' }],
  ['resources/read', { kind: 'resource', param: 'uri' }],
  ['resources/subscribe', { kind: 'resource', param: 'uri' }],
  ['resources/unsubscribe', { kind: 'resource', param: 'uri' }],
  ...[...TASK_ID_METHODS].map((m) => [m, { kind: 'task' as const, param: 'taskId' }] as const),
]);

/** What a request is about, as the client named it; undefined for requests about no particular target. */
function targetOf(method: string, params: Result | undefined): { kind: TargetKind; called: string } | undefined {
  if (!isObject(params)) return undefined;
  if (method === 'completion/complete') {
    const ref = isObject(params.ref) ? params.ref : undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return { kind: 'prompt', called: ref.name };
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') return { kind: 'template', called: ref.uri };
    return undefined;
  }
  const spec = TARGETED.get(method);
  const called = spec ? params[spec.param] : undefined;
  return spec && typeof called === 'string' ? { kind: spec.kind, called } : undefined;
}

export interface PassthroughDeps {
  servers: ServerSource;
  policy: RoutePolicy;
}

/**
 * One server in scope: every message goes to it unchanged (names untouched), over this client's lease.
 * The gateway answers only `ping` itself; everything else, unknown methods included, is the server's.
 * When the policy has anything to say about this server for this caller, listings are filtered and
 * requests admitted by the policy stage; otherwise the relay is untouched (the fast path).
 */
export class PassthroughSession implements RouteSession {
  private upstream: Upstream;
  private lease: Lease;

  constructor(
    private readonly server: string,
    private readonly deps: PassthroughDeps,
    private readonly profile: ClientProfile,
    private readonly sink: ClientSink,
    private readonly tasks: TaskMapper,
  ) {
    const upstream = deps.servers.get(server);
    if (!upstream) throw removedServer(server, deps.servers.names());
    this.upstream = upstream;
    this.lease = upstream.lease(profile, tasks.sink(server, sink));
  }

  async initialize(ctx: CallContext): Promise<Result> {
    const upstream = await this.current().initializeResult(upstreamHeaders(ctx, this.server, 'initialize'));
    const { protocolVersion: _v, ...rest } = upstream;
    return rest;
  }

  async request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    if (method === 'ping') return {};
    if (method === 'initialize') throw new McpError(ErrorCode.InvalidRequest, 'initialize may only be sent once per session');
    const lease = this.current();
    this.tasks.bind(ctx.caller.keyId);
    if (TASK_ID_METHODS.has(method)) {
      // Task ids are handles bound to the key that created the task; the server gets its own id.
      const t = this.tasks.target(params);
      if (t.server !== this.server) throw unknownTask();
      params = { ...params, taskId: t.taskId };
    }
    const untouched = this.deps.policy.untouched(ctx.caller, this.server);
    // The policy may hand a call its own signal (a during_mcp_call guardrail aborts through it).
    const forward = (p: Result | undefined, signal = ctx.signal) =>
      lease.request(method, p, {
        signal,
        callerKeyId: ctx.caller.keyId,
        headers: upstreamHeaders(ctx, this.server, method, p),
        onProgress: ctx.onProgress && hasProgressToken(p) ? ctx.onProgress : undefined,
        relay: ctx.relay,
      });
    let result: Result;
    if (
      method === 'tools/call' &&
      isObject(params) &&
      typeof params.name === 'string' &&
      (!untouched || this.deps.policy.recorded(ctx.caller, this.server))
    ) {
      result = await this.callTool(params as Result & { name: string }, ctx, forward);
    } else {
      if (!untouched) params = this.admit(method, params, ctx.caller);
      result = method === 'tools/list' ? await this.listing(ctx.caller, () => forward(params)) : await forward(params);
    }
    if (!untouched) result = this.present(method, result, ctx.caller);
    return method === 'tools/call' || method === 'tasks/list' || TASK_ID_METHODS.has(method)
      ? this.tasks.result(this.server, method, result)
      : result;
  }

  notify(method: string, params: Result | undefined, ctx: CallContext): Promise<void> {
    if (method === 'notifications/initialized' || method === 'notifications/cancelled') return Promise.resolve();
    return this.current().notify(method, params, upstreamHeaders(ctx, this.server, method));
  }

  close(): Promise<void> {
    return this.lease.release();
  }

  /**
   * The lease on the server's current definition: a changed server is re-leased here (the session
   * moves to the new definition at its next request); a removed one is an error naming it.
   */
  private current(): Lease {
    const now = this.deps.servers.get(this.server);
    if (!now) throw removedServer(this.server, this.deps.servers.names());
    if (now !== this.upstream) {
      void this.lease.release().catch(() => {});
      this.upstream = now;
      this.lease = now.lease(this.profile, this.tasks.sink(this.server, this.sink));
    }
    return this.lease;
  }

  /** A tools/call through the policy pipeline; the upstream gets the tool's own name and the arguments the pipeline let through. */
  private callTool(
    params: Result & { name: string },
    ctx: CallContext,
    forward: (p: Result, signal: Cancel) => Promise<Result>,
  ): Promise<Result> {
    const called = params.name;
    const own = this.deps.policy.naming(this.server);
    const tool = own ? own.originalName(called) : called;
    const args = isObject(params.arguments) ? params.arguments : undefined;
    const asTask = params.task !== undefined;
    return this.deps.policy.call(
      { caller: ctx.caller, server: this.server, tool, called, arguments: args, asTask, signal: ctx.signal },
      (c) => forward(c.tool === called && c.arguments === args ? params : { ...params, name: c.tool, arguments: c.arguments }, c.signal),
    );
  }

  /** A tools/list, answered or failed, is recorded (a spend log row). */
  private async listing(caller: Caller, list: () => Promise<Result>): Promise<Result> {
    const started = performance.now();
    try {
      const result = await list();
      this.deps.policy.listed(caller, [this.server], started);
      return result;
    } catch (err) {
      this.deps.policy.listed(caller, [this.server], started, true);
      throw err;
    }
  }

  /** The request as the upstream gets it, once the policy admitted it (a display name mapped back to the tool's own). */
  private admit(method: string, params: Result | undefined, caller: Caller): Result | undefined {
    const t = targetOf(method, params);
    if (!t) return params;
    const own = t.kind === 'tool' && method === 'tools/call' ? this.deps.policy.naming(this.server) : undefined;
    const name = own ? own.originalName(t.called) : t.called;
    const args = isObject(params!.arguments) ? params!.arguments : undefined;
    this.deps.policy.admit(caller, { server: this.server, kind: t.kind, name, arguments: args }, t.called);
    return name === t.called ? params : { ...params, name };
  }

  /** A listing as this caller may see it: filtered by the policy, with the server's display names applied. */
  private present(method: string, result: Result, caller: Caller): Result {
    const spec = LISTED.get(method);
    const items = spec ? result[spec.field] : undefined;
    if (!spec || !Array.isArray(items)) return result;
    const visible = this.deps.policy.filter(caller, this.server, spec.kind, items);
    const own = spec.kind === 'tool' ? this.deps.policy.naming(this.server) : undefined;
    return { ...result, [spec.field]: own ? visible.map((t) => (isObject(t) ? own.present(t) : t)) : visible };
  }
}

export function hasProgressToken(params: Result | undefined): boolean {
  return isObject(params) && isObject(params._meta) && params._meta.progressToken !== undefined;
}
