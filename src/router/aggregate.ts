import type { Caller } from '../caller/keys.js';
import { ErrorCode, McpError, isObject, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import type { TargetKind } from '../mcp/target.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import { profileKey } from '../upstream/lease.js';
import type { Lease, Upstream } from '../upstream/upstream.js';
import { AggregateCatalog, pageOf, type AggregateDeps } from './aggregate-catalog.js';
import { aggregateInitialize } from './aggregate-init.js';
import { resolveName, resolveResource, templateServer, type Resolving } from './aggregate-resolve.js';
import { buildUriTable, type ListingKind, type NamedKind } from './catalog-build.js';
import type { ListingProfile } from './catalog.js';
import { fingerprint } from './cursor.js';
import { hasProgressToken } from './passthrough.js';
import type { CallContext, RouteScope, RouteSession } from './route.js';
import { upstreamHeaders } from './param-headers.js';
import { TASK_ID_METHODS, TaskMapper } from './tasks.js';

export { AggregateCatalog, type ServerOutcome } from './aggregate-catalog.js';

type Result = Record<string, unknown>;

/** Items per aggregate page: big enough that most catalogs are one page, small enough to stream. */
export const AGGREGATE_PAGE_SIZE = 1000;
export const OUTCOME_META_KEY = 'io.toolgate/servers';

const ALL_LIST_CHANGED = ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed'];

export function createAggregateFactory(deps: AggregateDeps) {
  const shared = new AggregateCatalog(deps);
  return (scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession => new AggregateSession(shared, scope, profile, sink);
}

/** Client method -> listing kind and result field. A Map: a client's `__proto__` must find nothing. */
const LIST_KIND = new Map<string, { kind: ListingKind; field: string }>([
  ['tools/list', { kind: 'tools', field: 'tools' }],
  ['prompts/list', { kind: 'prompts', field: 'prompts' }],
  ['resources/list', { kind: 'resources', field: 'resources' }],
  ['resources/templates/list', { kind: 'resourceTemplates', field: 'resourceTemplates' }],
]);

/**
 * Several servers behind one MCP server: merged listings with namespaced names and our own cursors,
 * calls routed back by exact catalog lookup, notifications fanned in. Every request first resolves
 * its target, then asks the policy stage, then forwards.
 */
export class AggregateSession implements RouteSession {
  /** Per server: the lease, and the Upstream it is on (a redefined server is re-leased at the next request). */
  private readonly leases = new Map<string, { upstream: Upstream; lease: Lease }>();
  /** Per server: upstream URI -> the URI this client subscribed with, so resources/updated names it back. */
  private readonly subscribed = new Map<string, Map<string, string>>();
  private readonly unsubscribe: () => void;
  private readonly tasks: TaskMapper;
  /** The caller of the last request: list changes are announced for servers it may see. */
  private caller?: Caller;
  /** What this client's listings are built for: its capabilities, and its era (2026 clients are pooled). */
  private readonly listing: ListingProfile;

  constructor(
    private readonly shared: AggregateCatalog,
    private readonly scope: RouteScope,
    private readonly profile: ClientProfile,
    private readonly sink: ClientSink,
  ) {
    this.tasks = new TaskMapper(shared.deps.tasks);
    this.listing = { capabilities: profile.capabilities, modern: profile.pooled === true };
    // Leases up front: a shared upstream session delivers its notifications (log messages, resource
    // updates) to the leases it has, so a server this client has not called yet still reaches it.
    for (const name of scope.servers) if (shared.deps.servers.get(name)) this.leaseOf(name);
    this.unsubscribe = shared.catalog.onChange((server, method) => {
      if (!this.inScope(server)) return;
      if (method === '*' && shared.deps.servers.get(server)) this.leaseOf(server);
      for (const m of method === '*' ? ALL_LIST_CHANGED : [method]) sink.notify({ jsonrpc: '2.0', method: m });
    });
  }

  async initialize(ctx: CallContext): Promise<Result> {
    const servers = this.serversFor(ctx.caller);
    const result = await aggregateInitialize(this.shared, servers, this.profile);
    // Warm the tool catalog now, so the client's first call is routed without waiting on a listing.
    if (isObject(result.capabilities) && 'tools' in result.capabilities) void this.shared.view('tools', servers, this.listing, ctx.caller);
    return result;
  }

  async request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const r = this.resolving(ctx.caller);
    const list = LIST_KIND.get(method);
    if (list) return this.list(r, list.kind, list.field, params);
    this.tasks.bind(ctx.caller.keyId);
    if (TASK_ID_METHODS.has(method)) {
      // The handle names its server; the server gets its own task id back (and in Mcp-Name).
      const t = this.tasks.target(params);
      if (!r.servers.includes(t.server))
        throw new McpError(ErrorCode.InvalidParams, `Unknown task: server "${t.server}" is not in this endpoint's scope`);
      this.admit(r, t.server, 'task', t.taskId);
      return this.tasks.result(t.server, method, await this.forward(t.server, method, { ...params, taskId: t.taskId }, ctx));
    }
    switch (method) {
      case 'tasks/list':
        return this.listTasks(r, params, ctx);
      case 'ping':
        return {};
      case 'tools/call':
        return this.callByName(r, 'tools', params, ctx, 'tools/call');
      case 'prompts/get':
        return this.callByName(r, 'prompts', params, ctx, 'prompts/get');
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.callByUri(r, method, params, ctx);
      case 'completion/complete':
        return this.complete(r, params, ctx);
      case 'logging/setLevel': {
        await Promise.allSettled(
          r.servers.map((s) => this.leaseOf(s).request(method, params, { signal: ctx.signal, headers: upstreamHeaders(ctx, s, method) })),
        );
        return {};
      }
      case 'initialize':
        throw new McpError(ErrorCode.InvalidRequest, 'initialize may only be sent once per session');
      default:
        throw new McpError(
          ErrorCode.MethodNotFound,
          `Method not found: ${method} is not routable on an aggregate endpoint; use /mcp/{server} for it`,
        );
    }
  }

  async notify(method: string, params: Result | undefined, ctx: CallContext): Promise<void> {
    if (method === 'notifications/initialized' || method === 'notifications/cancelled') return;
    const servers = this.serversFor(ctx.caller);
    await Promise.allSettled(servers.map((s) => this.leaseOf(s).notify(method, params, upstreamHeaders(ctx, s, method))));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.leases.values()].map((l) => l.lease.release()));
  }

  /**
   * The servers this request may reach: the selection, or for bare `/mcp` every server the caller may
   * use as the registry has them now (servers added later join); servers removed since are gone.
   */
  private serversFor(caller: Caller): string[] {
    this.caller = caller;
    const { servers, policy } = this.shared.deps;
    const names = this.scope.all ? servers.names() : this.scope.servers;
    const out = names.filter((n) => servers.get(n) !== undefined && policy.serverVisible(caller, n));
    for (const [name, held] of this.leases) {
      if (servers.get(name) !== held.upstream) {
        this.leases.delete(name);
        void held.lease.release().catch(() => {});
      }
    }
    for (const n of out) this.leaseOf(n);
    return out;
  }

  private inScope(server: string): boolean {
    if (!this.caller) return this.scope.all === true || this.scope.servers.includes(server);
    if (!this.shared.deps.policy.serverVisible(this.caller, server)) return false;
    return this.scope.all === true || this.scope.servers.includes(server);
  }

  private resolving(caller: Caller): Resolving {
    return { shared: this.shared, servers: this.serversFor(caller), listing: this.listing, caller };
  }

  /** This client's lease on a server's current definition, made on first use. */
  private leaseOf(server: string): Lease {
    let held = this.leases.get(server);
    if (!held) {
      const upstream = this.shared.deps.servers.get(server)!;
      held = { upstream, lease: upstream.lease(this.profile, this.serverSink(server)) };
      this.leases.set(server, held);
    }
    return held.lease;
  }

  private admit(r: Resolving, server: string, kind: TargetKind, name: string, args?: unknown, called?: string): void {
    this.shared.deps.policy.admit(r.caller, { server, kind, name, arguments: isObject(args) ? args : undefined }, called);
  }

  private async list(r: Resolving, kind: ListingKind, field: string, params: Result | undefined): Promise<Result> {
    const started = performance.now();
    const view = await this.shared.view(kind, r.servers, this.listing, r.caller);
    // Servers that could not be listed are in the view's outcomes; the listing itself was answered.
    if (kind === 'tools') this.shared.deps.policy.listed(r.caller, r.servers, started);
    const v = this.cursorScope(r) + ':' + kind;
    let start = 0;
    if (isObject(params) && params.cursor !== undefined) {
      if (typeof params.cursor !== 'string') throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
      start = this.shared.deps.cursors.decode(params.cursor, v).s;
    }
    const end = start + AGGREGATE_PAGE_SIZE;
    const result: Result = { [field]: pageOf(view, start, end), _meta: { [OUTCOME_META_KEY]: view.outcomes } };
    if (end < view.items.length) result.nextCursor = this.shared.deps.cursors.encode({ s: end, v });
    return result;
  }

  /** Cursors are bound to the servers, the client profile and the caller's access: no other caller can continue them. */
  private cursorScope(r: Resolving): string {
    return fingerprint([
      ...r.servers,
      profileKey(this.profile.capabilities),
      String(this.listing.modern),
      this.shared.deps.policy.listingKey(r.caller),
    ]);
  }

  private async callByName(r: Resolving, kind: NamedKind, params: Result | undefined, ctx: CallContext, method: string): Promise<Result> {
    const name = isObject(params) ? params.name : undefined;
    if (typeof name !== 'string') throw new McpError(ErrorCode.InvalidParams, `${method} needs params.name`);
    const started = performance.now();
    const target = await resolveName(r, kind, name).catch((err: unknown) => {
      if (kind === 'tools') this.shared.deps.policy.unresolved(r.caller, name, r.servers, started);
      throw err;
    });
    if (kind === 'prompts') {
      this.admit(r, target.server, 'prompt', target.name, params!.arguments, name);
      return this.forward(target.server, method, { ...params, name: target.name }, ctx);
    }
    const args = isObject(params!.arguments) ? params!.arguments : undefined;
    const asTask = params!.task !== undefined;
    const call = { caller: r.caller, server: target.server, tool: target.name, called: name, arguments: args, asTask, signal: ctx.signal };
    const result = await this.shared.deps.policy.call(call, (c) =>
      this.forward(
        target.server,
        method,
        c.arguments === args ? { ...params, name: c.tool } : { ...params, name: c.tool, arguments: c.arguments },
        ctx,
        c.signal,
      ),
    );
    return this.tasks.result(target.server, method, result);
  }

  private async callByUri(r: Resolving, method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const uri = isObject(params) ? params.uri : undefined;
    if (typeof uri !== 'string') throw new McpError(ErrorCode.InvalidParams, `${method} needs params.uri`);
    const target = await resolveResource(r, uri);
    this.admit(r, target.server, 'resource', target.uri, undefined, uri);
    const result = await this.forward(target.server, method, { ...params, uri: target.uri }, ctx);
    if (method !== 'resources/read') {
      let uris = this.subscribed.get(target.server);
      if (!uris) this.subscribed.set(target.server, (uris = new Map()));
      if (method === 'resources/subscribe') uris.set(target.uri, uri);
      else uris.delete(target.uri);
    }
    return result;
  }

  private async complete(r: Resolving, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const ref = isObject(params) && isObject(params.ref) ? params.ref : undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const t = await resolveName(r, 'prompts', ref.name);
      this.admit(r, t.server, 'prompt', t.name, undefined, ref.name);
      return this.forward(t.server, 'completion/complete', { ...params, ref: { ...ref, name: t.name } }, ctx);
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const uri = ref.uri;
      const server = await templateServer(r, (t) => t === uri);
      if (server) {
        this.admit(r, server, 'template', uri);
        return this.forward(server, 'completion/complete', params!, ctx);
      }
      const t = await resolveResource(r, uri);
      this.admit(r, t.server, 'resource', t.uri, undefined, uri);
      return this.forward(t.server, 'completion/complete', { ...params, ref: { ...ref, uri: t.uri } }, ctx);
    }
    throw new McpError(ErrorCode.InvalidParams, 'completion/complete needs params.ref of type ref/prompt or ref/resource');
  }

  /** `signal`: the policy's (a during_mcp_call guardrail aborts through it), else the client's. */
  private forward(server: string, method: string, params: Result, ctx: CallContext, signal = ctx.signal): Promise<Result> {
    return this.leaseOf(server).request(method, params, {
      signal,
      callerKeyId: ctx.caller.keyId,
      headers: upstreamHeaders(ctx, server, method, params),
      onProgress: ctx.onProgress && hasProgressToken(params) ? ctx.onProgress : undefined,
      relay: ctx.relay,
    });
  }

  /**
   * tasks/list across the servers that list tasks, one server after another: our cursor holds the
   * server's position and its own cursor. Each key sees only the tasks it created.
   */
  private async listTasks(r: Resolving, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const v = this.cursorScope(r) + ':tasks';
    const { cursors } = this.shared.deps;
    let pos: { s: number; c?: string } = { s: 0 };
    if (isObject(params) && params.cursor !== undefined) {
      if (typeof params.cursor !== 'string') throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
      pos = cursors.decode(params.cursor, v);
    }
    const servers = r.servers;
    for (let s = pos.s; s < servers.length; s++) {
      const server = servers[s]!;
      const caps = await this.leaseOf(server)
        .initializeResult(upstreamHeaders(ctx, server, 'initialize'))
        .then(
          (res) => res.capabilities,
          () => undefined,
        );
      if (!isObject(caps) || !isObject(caps.tasks) || !isObject(caps.tasks.list)) continue;
      const upstreamCursor = s === pos.s ? pos.c : undefined;
      const page = await this.forward(server, 'tasks/list', upstreamCursor === undefined ? {} : { cursor: upstreamCursor }, ctx);
      const mapped = this.tasks.result(server, 'tasks/list', page);
      const { nextCursor: next, ...rest } = mapped;
      const out: Result = { ...rest };
      if (typeof next === 'string') out.nextCursor = cursors.encode({ s, c: next, v });
      else if (s + 1 < servers.length) out.nextCursor = cursors.encode({ s: s + 1, v });
      return out;
    }
    return { tasks: [] };
  }

  /** What one upstream sends this client outside responses, with routing fields mapped back. */
  private serverSink(server: string): ClientSink {
    return this.tasks.sink(server, {
      notify: (msg: JsonRpcNotification) => {
        // The catalog turns upstream list changes into our own list_changed (after invalidation).
        if (msg.method.endsWith('/list_changed')) return;
        if (msg.method === 'notifications/resources/updated' && isObject(msg.params) && typeof msg.params.uri === 'string') {
          const exposed = this.subscribed.get(server)?.get(msg.params.uri) ?? this.exposedUri(server, msg.params.uri);
          if (exposed && exposed !== msg.params.uri) msg = { ...msg, params: { ...msg.params, uri: exposed } };
        }
        this.sink.notify(msg);
      },
      request: (msg) => this.sink.request(msg),
    });
  }

  private exposedUri(server: string, uri: string): string | undefined {
    const servers = this.caller ? this.serversFor(this.caller) : this.scope.servers;
    const listings = servers.map((s) => this.shared.catalog.peek(s, 'resources', this.listing));
    if (listings.some((l) => !l)) return undefined;
    const table = buildUriTable(servers.map((s, i) => ({ server: s, items: listings[i]!.items })));
    return table.byServer.get(server)?.get(uri);
  }
}
