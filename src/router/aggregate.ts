import type { Logger } from 'pino';
import type { GatewayConfig, ServerConfig } from '../config/types.js';
import { ErrorCode, McpError, isObject, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import type { ClientProfile, ClientSink } from '../upstream/lease.js';
import { profileKey } from '../upstream/lease.js';
import type { Lease, Upstream } from '../upstream/upstream.js';
import { CatalogStore, type Listing } from './catalog.js';
import {
  buildListingTable,
  buildUriTable,
  mergeListing,
  resolveUri,
  type ListingKind,
  type NamedKind,
  type ServerListing,
  type ServerNaming,
  type UriTable,
  type UriTarget,
} from './catalog-build.js';
import { createCursorCodec, fingerprint, type CursorCodec } from './cursor.js';
import { MIN_EXPOSED_NAME_LENGTH, type NameTable, type NameTarget } from './names.js';
import { hasProgressToken } from './passthrough.js';
import { freezeForJson } from '../mcp/frozen-json.js';
import type { CallContext, RouteScope, RouteSession } from './route.js';
import { randomBytes } from 'node:crypto';
import { TOOLGATE_VERSION } from '../version.js';
import { TASK_ID_METHODS, TASKS_EXTENSION, TaskHandles, TaskMapper } from './tasks.js';
import { refusedTool, ToolPolicy } from './tool-policy.js';
import { matchesUriTemplate } from './uri-template.js';

type Result = Record<string, unknown>;

/** Items per aggregate page: big enough that most catalogs are one page, small enough to stream. */
export const AGGREGATE_PAGE_SIZE = 1000;
export const OUTCOME_META_KEY = 'io.toolgate/servers';

interface View {
  key: string;
  items: Result[];
  names?: NameTable;
  uris?: UriTable;
  /** Per server: the listing used (for templates and filter explanations). */
  listings: Map<string, Listing>;
  outcomes: Record<string, ServerOutcome>;
}

/** One server's part in a merged listing, returned in `_meta['io.toolgate/servers']`. */
export interface ServerOutcome {
  ok: boolean;
  count?: number;
  error?: string;
  /** prefix_mode never: names this server also lists that another server's item took. */
  collisions?: Array<{ name: string; exposedBy: string }>;
}

/**
 * Page slices per view. A view is immutable once built (a rebuild makes a new one), so its pages and their JSON
 * text are too: repeated tools/list answers reuse both instead of slicing and serialising 1,000 items each time.
 */
const pages = new WeakMap<View, Map<number, Result[]>>();

function pageOf(view: View, start: number, end: number): Result[] {
  let byStart = pages.get(view);
  if (!byStart) pages.set(view, (byStart = new Map()));
  let items = byStart.get(start);
  if (!items) byStart.set(start, (items = freezeForJson(view.items.slice(start, end))));
  return items;
}

/** Everything aggregate sessions share: the catalog, merged views and the cursor key. */
export class AggregateCatalog {
  readonly catalog: CatalogStore;
  readonly cursors: CursorCodec;
  readonly byName = new Map<string, ServerConfig>();
  readonly policies = new Map<string, ToolPolicy | undefined>();
  private readonly views = new Map<string, View>();
  private readonly maxNameLength: number;

  constructor(
    readonly upstreams: Map<string, Upstream>,
    readonly config: GatewayConfig,
    readonly log: Logger,
    readonly tasks: TaskHandles = new TaskHandles(config.settings.stateSecret ?? randomBytes(32)),
  ) {
    for (const s of config.servers) {
      this.byName.set(s.name, s);
      this.policies.set(s.name, ToolPolicy.for(s, config.settings.toolPrefixSeparator));
    }
    // Below this a shortened name would be mostly hash; the config accepts smaller values, names.ts does not.
    this.maxNameLength = Math.max(MIN_EXPOSED_NAME_LENGTH, config.settings.maxToolNameLength);
    if (this.maxNameLength !== config.settings.maxToolNameLength) {
      log.warn(
        { configured: config.settings.maxToolNameLength, used: this.maxNameLength },
        'max_tool_name_length raised to the smallest length that can hold a shortened name',
      );
    }
    this.catalog = new CatalogStore(upstreams, {
      ttlMs: config.settings.catalogTtlMs,
      listingTimeoutMs: config.settings.listingTimeoutMs,
      log,
    });
    this.cursors = createCursorCodec(config.settings.stateSecret ?? randomBytes(32));
  }

  /** The merged, named view of one kind for a scope and capability profile (fresh listings). */
  async view(kind: ListingKind, servers: string[], capabilities: Result): Promise<View> {
    const listings = await Promise.all(servers.map((s) => this.catalog.get(s, kind, capabilities)));
    return this.build(kind, servers, capabilities, listings);
  }

  /**
   * The view calls are routed by: each server's last listing however old (a call never waits on a
   * relisting, nor relists a healthy server because another one is down); only a server never
   * listed for this profile is listed now.
   */
  async routingView(kind: ListingKind, servers: string[], capabilities: Result): Promise<View> {
    const listings = await Promise.all(
      servers.map((s) => this.catalog.peek(s, kind, capabilities) ?? this.catalog.get(s, kind, capabilities)),
    );
    return this.build(kind, servers, capabilities, listings);
  }

  private build(kind: ListingKind, servers: string[], capabilities: Result, listings: Listing[]): View {
    const key = `${kind}|${servers.join(',')}|${profileKey(capabilities)}|${listings.map((l) => l.generation).join(',')}`;
    const cacheKey = `${kind}|${servers.join(',')}|${profileKey(capabilities)}`;
    const cached = this.views.get(cacheKey);
    if (cached?.key === key) return cached;
    const settings = this.config.settings;
    const perServer: ServerListing[] = [];
    const naming = new Map<string, ServerNaming>();
    const outcomes: View['outcomes'] = {};
    const byServer = new Map<string, Listing>();
    servers.forEach((name, i) => {
      const cfg = this.byName.get(name)!;
      const listing = listings[i]!;
      byServer.set(name, listing);
      outcomes[name] = listing.error ? { ok: false, error: listing.error } : { ok: true, count: listing.items.length };
      const policy = this.policies.get(name);
      const items =
        kind === 'tools' && policy ? listing.items.filter((t) => typeof t.name === 'string' && policy.allows(t.name)) : listing.items;
      perServer.push({ server: name, items, descriptions: kind === 'tools' ? cfg.toolNameToDescription : undefined });
      naming.set(name, {
        prefix: cfg.alias ?? cfg.name,
        mode: cfg.prefixMode ?? settings.prefixMode,
        displayNames: kind === 'tools' ? cfg.toolNameToDisplayName : undefined,
      });
    });
    let view: View;
    if (kind === 'resources') {
      const uris = buildUriTable(perServer);
      view = { key, items: mergeListing('resources', perServer, uris), uris, listings: byServer, outcomes };
    } else {
      const names = buildListingTable(kind, perServer, naming, { separator: settings.toolPrefixSeparator, maxLength: this.maxNameLength });
      for (const c of names.collisions) {
        this.log.warn(
          { kind, name: c.exposed, servers: c.servers },
          `${kind} name collision with prefix_mode never: only the first server's is exposed`,
        );
        for (const loser of c.servers.slice(1)) {
          const o = outcomes[loser]!;
          (o.collisions ??= []).push({ name: c.exposed, exposedBy: c.servers[0]! });
        }
      }
      view = { key, items: mergeListing(kind as NamedKind, perServer, names), names, listings: byServer, outcomes };
    }
    this.views.set(cacheKey, view);
    return view;
  }
}

export function createAggregateFactory(upstreams: Map<string, Upstream>, config: GatewayConfig, log: Logger, tasks?: TaskHandles) {
  const shared = new AggregateCatalog(upstreams, config, log, tasks);
  return (scope: RouteScope, profile: ClientProfile, sink: ClientSink): RouteSession => new AggregateSession(shared, scope, profile, sink);
}

const LIST_KIND: Record<string, { kind: ListingKind; field: string }> = {
  'tools/list': { kind: 'tools', field: 'tools' },
  'prompts/list': { kind: 'prompts', field: 'prompts' },
  'resources/list': { kind: 'resources', field: 'resources' },
  'resources/templates/list': { kind: 'resourceTemplates', field: 'resourceTemplates' },
};

/**
 * Several servers behind one MCP server: merged listings with namespaced names and our own cursors,
 * calls routed back by exact catalog lookup, notifications fanned in.
 */
export class AggregateSession implements RouteSession {
  private readonly leases = new Map<string, Lease>();
  /** Per server: upstream URI -> the URI this client subscribed with, so resources/updated names it back. */
  private readonly subscribed = new Map<string, Map<string, string>>();
  private readonly unsubscribe: () => void;
  private readonly scopeFingerprint: string;
  private readonly tasks: TaskMapper;

  constructor(
    private readonly shared: AggregateCatalog,
    private readonly scope: RouteScope,
    private readonly profile: ClientProfile,
    private readonly sink: ClientSink,
  ) {
    this.tasks = new TaskMapper(shared.tasks);
    for (const name of scope.servers) {
      this.leases.set(name, shared.upstreams.get(name)!.lease(profile, this.serverSink(name)));
    }
    this.scopeFingerprint = fingerprint([...scope.servers, profileKey(profile.capabilities)]);
    this.unsubscribe = shared.catalog.onChange((server, method) => {
      if (!this.leases.has(server)) return;
      const methods =
        method === '*'
          ? ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed']
          : [method];
      for (const m of methods) sink.notify({ jsonrpc: '2.0', method: m });
    });
  }

  async initialize(): Promise<Result> {
    const { config } = this.shared;
    const described = await Promise.allSettled(
      this.scope.servers.map((s) =>
        withTimeout(
          this.shared.upstreams.get(s)!.describe(this.profile.capabilities, this.profile.pooled === true),
          config.settings.listingTimeoutMs,
          `upstream "${s}" did not initialize in time`,
        ),
      ),
    );
    const caps: Result = {};
    const instructions: string[] = [];
    described.forEach((d, i) => {
      const name = this.scope.servers[i]!;
      const override = this.shared.byName.get(name)!.instructions;
      if (d.status === 'rejected') {
        this.shared.log.warn({ server: name, err: (d.reason as Error).message }, 'aggregate initialize: server unavailable');
        // Its tools appear when it comes back (announced by list_changed); a client told there are
        // no tools at all would never list them for the rest of its session.
        caps.tools = { listChanged: true };
        return;
      }
      const c = isObject(d.value.capabilities) ? d.value.capabilities : {};
      if ('tools' in c) caps.tools = { listChanged: true };
      if ('prompts' in c) caps.prompts = { listChanged: true };
      if ('resources' in c) {
        const sub = isObject(c.resources) && c.resources.subscribe === true;
        caps.resources = { listChanged: true, subscribe: sub || (isObject(caps.resources) && caps.resources.subscribe === true) };
      }
      if ('logging' in c) caps.logging = {};
      if ('completions' in c) caps.completions = {};
      mergeTaskCapabilities(caps, c);
      const text = override ?? (typeof d.value.instructions === 'string' ? d.value.instructions : undefined);
      if (text) instructions.push(`[${name}]\n${text}`);
    });
    // Warm the tool catalog now, so the client's first call is routed without waiting on a listing.
    if ('tools' in caps) void this.shared.view('tools', this.scope.servers, this.profile.capabilities);
    const result: Result = { capabilities: caps, serverInfo: { name: 'toolgate', version: TOOLGATE_VERSION } };
    if (instructions.length) result.instructions = instructions.join('\n\n---\n\n');
    return result;
  }

  async request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const list = LIST_KIND[method];
    if (list) return this.list(list.kind, list.field, params);
    this.tasks.bind(ctx.caller.keyId);
    if (TASK_ID_METHODS.has(method)) {
      // The handle names its server; the server gets its own task id back (and in Mcp-Name).
      const t = this.tasks.target(params);
      if (!this.leases.has(t.server))
        throw new McpError(ErrorCode.InvalidParams, `Unknown task: server "${t.server}" is not in this endpoint's scope`);
      return this.tasks.result(t.server, method, await this.forward(t.server, method, { ...params, taskId: t.taskId }, ctx));
    }
    switch (method) {
      case 'tasks/list':
        return this.listTasks(params, ctx);
      case 'ping':
        return {};
      case 'tools/call':
        return this.callByName('tools', params, ctx, 'tools/call');
      case 'prompts/get':
        return this.callByName('prompts', params, ctx, 'prompts/get');
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.callByUri(method, params, ctx);
      case 'completion/complete':
        return this.complete(params, ctx);
      case 'logging/setLevel': {
        await Promise.allSettled(
          [...this.leases.entries()].map(([s, l]) => l.request(method, params, { signal: ctx.signal, headers: ctx.headersFor(s) })),
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
    await Promise.allSettled([...this.leases.entries()].map(([s, l]) => l.notify(method, params, ctx.headersFor(s))));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.leases.values()].map((l) => l.release()));
  }

  private async list(kind: ListingKind, field: string, params: Result | undefined): Promise<Result> {
    const view = await this.shared.view(kind, this.scope.servers, this.profile.capabilities);
    const v = this.scopeFingerprint + ':' + kind;
    let start = 0;
    if (isObject(params) && params.cursor !== undefined) {
      if (typeof params.cursor !== 'string') throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
      start = this.shared.cursors.decode(params.cursor, v).s;
    }
    const end = start + AGGREGATE_PAGE_SIZE;
    const result: Result = { [field]: pageOf(view, start, end), _meta: { [OUTCOME_META_KEY]: view.outcomes } };
    if (end < view.items.length) result.nextCursor = this.shared.cursors.encode({ s: end, v });
    return result;
  }

  private async callByName(kind: NamedKind, params: Result | undefined, ctx: CallContext, method: string): Promise<Result> {
    const name = isObject(params) ? params.name : undefined;
    if (typeof name !== 'string') throw new McpError(ErrorCode.InvalidParams, `${method} needs params.name`);
    const target = await this.resolveName(kind, name);
    const result = await this.forward(target.server, method, { ...params, name: target.name }, ctx);
    return method === 'tools/call' ? this.tasks.result(target.server, method, result) : result;
  }

  private async resolveName(kind: NamedKind, name: string): Promise<NameTarget> {
    const { servers } = this.scope;
    const caps = this.profile.capabilities;
    let view = await this.shared.routingView(kind, servers, caps);
    let target = view.names!.exposed.get(name);
    if (!target) {
      // Perhaps new since we last listed: one fresh look before refusing.
      view = await this.shared.view(kind, servers, caps);
      target = view.names!.exposed.get(name);
    }
    if (target) return target;
    if (kind === 'tools') this.explainFiltered(name, view);
    const down = Object.entries(view.outcomes).filter(([, o]) => !o.ok);
    const label = kind === 'tools' ? 'tool' : 'prompt';
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown ${label} "${name}"` +
        (down.length
          ? `; unavailable servers: ${down.map(([s, o]) => `${s} (${o.error})`).join(', ')}`
          : `; list ${kind} to see what this endpoint offers`),
    );
  }

  /** A tool hidden by allowed_tools/disallowed_tools is refused with the reason, not as unknown. */
  private explainFiltered(name: string, view: View): void {
    const sep = this.shared.config.settings.toolPrefixSeparator;
    const wanted = name.toLowerCase();
    for (const [server, listing] of view.listings) {
      const policy = this.shared.policies.get(server);
      if (!policy) continue;
      const cfg = this.shared.byName.get(server)!;
      const forms = (tool: string) =>
        [tool, `${cfg.alias ?? cfg.name}${sep}${tool}`, `${cfg.name}${sep}${tool}`].map((f) => f.toLowerCase());
      for (const t of listing.items) {
        if (typeof t.name === 'string' && !policy.allows(t.name) && forms(t.name).includes(wanted)) throw refusedTool(name, server);
      }
    }
  }

  private async callByUri(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    const uri = isObject(params) ? params.uri : undefined;
    if (typeof uri !== 'string') throw new McpError(ErrorCode.InvalidParams, `${method} needs params.uri`);
    const target = await this.resolveResource(uri);
    const result = await this.forward(target.server, method, { ...params, uri: target.uri }, ctx);
    if (method !== 'resources/read') {
      let uris = this.subscribed.get(target.server);
      if (!uris) this.subscribed.set(target.server, (uris = new Map()));
      if (method === 'resources/subscribe') uris.set(target.uri, uri);
      else uris.delete(target.uri);
    }
    return result;
  }

  private async resolveResource(uri: string): Promise<UriTarget> {
    const { servers } = this.scope;
    const caps = this.profile.capabilities;
    const listed = await this.shared.routingView('resources', servers, caps);
    const hit = resolveUri(listed.uris!, uri);
    if (hit) return hit;
    const templates = await this.shared.routingView('resourceTemplates', servers, caps);
    for (const [server, listing] of templates.listings) {
      if (listing.items.some((t) => typeof t.uriTemplate === 'string' && matchesUriTemplate(t.uriTemplate, uri))) return { server, uri };
    }
    const fresh = await this.shared.view('resources', servers, caps);
    const again = resolveUri(fresh.uris!, uri);
    if (again) return again;
    const withResources = [...listed.listings.entries()].filter(([, l]) => l.items.length > 0 || !l.error).map(([s]) => s);
    if (withResources.length === 1) return { server: withResources[0]!, uri };
    throw new McpError(ErrorCode.InvalidParams, `Unknown resource "${uri}": no server in scope lists it or a template matching it`);
  }

  private async complete(params: Result | undefined, ctx: CallContext): Promise<Result> {
    const ref = isObject(params) && isObject(params.ref) ? params.ref : undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const t = await this.resolveName('prompts', ref.name);
      return this.forward(t.server, 'completion/complete', { ...params, ref: { ...ref, name: t.name } }, ctx);
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const templates = await this.shared.routingView('resourceTemplates', this.scope.servers, this.profile.capabilities);
      for (const [server, listing] of templates.listings) {
        if (listing.items.some((t) => t.uriTemplate === ref.uri)) return this.forward(server, 'completion/complete', params!, ctx);
      }
      const t = await this.resolveResource(ref.uri);
      return this.forward(t.server, 'completion/complete', { ...params, ref: { ...ref, uri: t.uri } }, ctx);
    }
    throw new McpError(ErrorCode.InvalidParams, 'completion/complete needs params.ref of type ref/prompt or ref/resource');
  }

  private forward(server: string, method: string, params: Result, ctx: CallContext): Promise<Result> {
    return this.leases.get(server)!.request(method, params, {
      signal: ctx.signal,
      callerKeyId: ctx.caller.keyId,
      headers: ctx.headersFor(server),
      onProgress: ctx.onProgress && hasProgressToken(params) ? ctx.onProgress : undefined,
    });
  }

  /**
   * tasks/list across the servers that list tasks, one server after another: our cursor holds the
   * server's position and its own cursor. Each key sees only the tasks it created.
   */
  private async listTasks(params: Result | undefined, ctx: CallContext): Promise<Result> {
    const v = this.scopeFingerprint + ':tasks';
    let pos: { s: number; c?: string } = { s: 0 };
    if (isObject(params) && params.cursor !== undefined) {
      if (typeof params.cursor !== 'string') throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
      pos = this.shared.cursors.decode(params.cursor, v);
    }
    const servers = this.scope.servers;
    for (let s = pos.s; s < servers.length; s++) {
      const server = servers[s]!;
      const caps = await this.leases
        .get(server)!
        .initializeResult(ctx.headersFor(server))
        .then(
          (r) => r.capabilities,
          () => undefined,
        );
      if (!isObject(caps) || !isObject(caps.tasks) || !isObject(caps.tasks.list)) continue;
      const upstreamCursor = s === pos.s ? pos.c : undefined;
      const page = await this.forward(server, 'tasks/list', upstreamCursor === undefined ? {} : { cursor: upstreamCursor }, ctx);
      const mapped = this.tasks.result(server, 'tasks/list', page);
      const { nextCursor: next, ...rest } = mapped;
      const out: Result = { ...rest };
      if (typeof next === 'string') out.nextCursor = this.shared.cursors.encode({ s, c: next, v });
      else if (s + 1 < servers.length) out.nextCursor = this.shared.cursors.encode({ s: s + 1, v });
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
    const listings = this.scope.servers.map((s) => this.shared.catalog.peek(s, 'resources', this.profile.capabilities));
    if (listings.some((l) => !l)) return undefined;
    const table = buildUriTable(this.scope.servers.map((s, i) => ({ server: s, items: listings[i]!.items })));
    return table.byServer.get(server)?.get(uri);
  }
}

/** 2025 experimental tasks merge as the union of what the servers offer; the 2026 extension if any server has it. */
function mergeTaskCapabilities(into: Result, c: Result): void {
  if (isObject(c.tasks)) {
    const t = isObject(into.tasks) ? into.tasks : {};
    const merged: Result = { ...t };
    if (isObject(c.tasks.list)) merged.list = {};
    if (isObject(c.tasks.cancel)) merged.cancel = {};
    if (isObject(c.tasks.requests)) merged.requests = { ...(isObject(t.requests) ? t.requests : {}), ...c.tasks.requests };
    into.tasks = merged;
  }
  if (isObject(c.extensions) && isObject(c.extensions[TASKS_EXTENSION])) {
    into.extensions = { ...(isObject(into.extensions) ? into.extensions : {}), [TASKS_EXTENSION]: {} };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
