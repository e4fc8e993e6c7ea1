import type { Caller } from '../caller/keys.js';
import { isObject } from '../mcp/jsonrpc.js';
import type { ServerSource } from '../registry/registry.js';
import type { CatalogStore } from '../router/catalog.js';
import type { CallContext, RoutePolicy, Router } from '../router/route.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import type { ClientProfile } from '../upstream/profile.js';
import { Exchange } from './mrtr.js';

type Result = Record<string, unknown>;

/** A REST answer other than 200, in LiteLLM's words (`type`: access_denied, tool_server_mismatch, ...). */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export interface RestToolsDeps {
  servers: ServerSource;
  router: Router;
  policy: Pick<RoutePolicy, 'serverVisible' | 'filter' | 'naming'>;
  /** Cached listings (list_changed and TTL keep it fresh), for telling which server a tool belongs to. */
  catalog: Pick<CatalogStore, 'get' | 'invalidate'>;
  separator: string;
  /** The name of a stored server by its `server_id` (what `/v1/mcp/server` hands out), if it is one. */
  nameOf?(id: string): string | undefined;
}

const isAdmin = (c: Caller) => c.isMaster || c.identity?.admin === true;

/** A REST caller is a one-request client without capabilities, like a sessionless curl on /mcp. */
const REST_PROFILE: ClientProfile = {
  protocolVersion: LATEST_LEGACY_VERSION,
  capabilities: {},
  clientInfo: { name: 'mcp-rest', version: '1' },
  pooled: true,
};
/** Upstream pages followed for one REST listing, against a server whose cursors never end. */
const MAX_PAGES = 100;

/**
 * LiteLLM's REST facade over the MCP routes: every listing and call opens a route session for the
 * caller with one server as scope, so the access decision, limits, guardrails and spend recording
 * are exactly those of the MCP path. What this adds is LiteLLM's REST vocabulary: a tool named on the
 * wrong server is `tool_server_mismatch`, a server or tool the caller may not use is `access_denied`
 * (unknown ones look the same, as on the MCP path).
 */
export class RestTools {
  constructor(private readonly deps: RestToolsDeps) {}

  /** Tools of one server, or of every server the caller may use, each with `mcp_info.server_name`. */
  async list(caller: Caller, serverId: string | undefined, ctx: CallContext): Promise<{ status: number; body: Result }> {
    const servers = serverId !== undefined ? [this.server(caller, serverId)] : this.visibleServers(caller);
    const outcomes = await Promise.all(
      servers.map((s) =>
        this.listOne(s, ctx).then(
          (tools) => ({ s, tools }),
          (err: Error) => ({ s, err }),
        ),
      ),
    );
    const tools = outcomes.flatMap((o) => ('tools' in o ? o.tools.map((t) => ({ ...t, mcp_info: { server_name: o.s } })) : []));
    // Why a server could not be listed is for operators (redacted of its secrets); a key hears only which one.
    const why = (s: string, err: Error) =>
      isAdmin(caller) ? (this.deps.servers.get(s)?.redactor.redact(err.message) ?? 'could not be listed') : 'could not be listed';
    const failed = outcomes.flatMap((o) => ('err' in o ? [`${o.s}: ${why(o.s, o.err)}`] : []));
    if (failed.length === 0) return { status: 200, body: { tools, error: null, message: `Listed ${tools.length} tools` } };
    // One server asked for and it failed: the HTTP status says so too; several: what could be listed is listed.
    const status = serverId !== undefined ? 502 : 200;
    return { status, body: { tools, error: 'upstream_error', message: `Could not list tools of ${failed.join('; ')}` } };
  }

  /** One tools/call on `server_id`, answered with the upstream's CallToolResult. */
  async call(caller: Caller, body: Result, ctx: CallContext): Promise<Result> {
    const name = body.name;
    if (typeof name !== 'string' || name === '') throw new RestError(400, 'bad_request_error', 'name: required, the tool to call', 'name');
    if (body.arguments !== undefined && body.arguments !== null && !isObject(body.arguments)) {
      throw new RestError(400, 'bad_request_error', 'arguments: must be a JSON object of the tool arguments', 'arguments');
    }
    const args = isObject(body.arguments) ? body.arguments : {};
    const rawServer = body.server_id ?? body.server_name;
    if (rawServer !== undefined && typeof rawServer !== 'string')
      throw new RestError(400, 'bad_request_error', 'server_id: must be a string', 'server_id');
    const { server, tool } =
      rawServer === undefined ? await this.locate(caller, name) : await this.resolve(caller, this.server(caller, rawServer), name);
    const route = this.deps.router.open({ servers: [server], aggregate: false }, REST_PROFILE, new Exchange({}));
    try {
      return await route.request('tools/call', { name: tool, arguments: args }, ctx);
    } finally {
      await route.close();
    }
  }

  private visibleServers(caller: Caller): string[] {
    return this.deps.servers.names().filter((n) => this.deps.policy.serverVisible(caller, n));
  }

  /** The server (by name, or a stored server's server_id) if the caller may use it; unknown and forbidden get the same 403. */
  private server(caller: Caller, id: string): string {
    const name = this.deps.servers.get(id) ? id : this.deps.nameOf?.(id);
    if (name !== undefined && this.deps.servers.get(name) && this.deps.policy.serverVisible(caller, name)) return name;
    const mine = this.visibleServers(caller);
    throw new RestError(
      403,
      'access_denied',
      `MCP server ${JSON.stringify(id)} is not available to this key; available servers: ${mine.join(', ') || '(none)'}`,
      'server_id',
    );
  }

  private async listOne(server: string, ctx: CallContext): Promise<Result[]> {
    const route = this.deps.router.open({ servers: [server], aggregate: false }, REST_PROFILE, new Exchange({}));
    const tools: Result[] = [];
    try {
      let cursor: unknown;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await route.request('tools/list', cursor === undefined ? {} : { cursor }, ctx);
        if (Array.isArray(r.tools)) tools.push(...(r.tools as Result[]).filter(isObject));
        cursor = r.nextCursor;
        if (typeof cursor !== 'string' || cursor === '') break;
      }
      return tools;
    } finally {
      await route.close();
    }
  }

  /** The tool names this caller sees on a server (as its one-server endpoint lists them); undefined if it cannot be listed. */
  private async names(caller: Caller, server: string): Promise<Set<string> | undefined> {
    const listing = await this.deps.catalog.get(server, 'tools', { capabilities: {}, modern: false });
    if (listing.error) return undefined;
    const own = this.deps.policy.naming(server);
    const visible = this.deps.policy.filter(caller, server, 'tool', listing.items);
    return new Set(visible.map((t) => (own ? own.present(t) : t).name).filter((n): n is string => typeof n === 'string'));
  }

  /**
   * The name to call on the server, refused before the call leaves the gateway when the tool is not
   * one this caller sees there: 403 tool_server_mismatch when another server it may use has it (by
   * its own name or its namespaced one), else 403 access_denied. The server's own namespaced name
   * (`github-search` on github) is accepted as its tool. A server that cannot be listed answers itself.
   */
  private async resolve(caller: Caller, server: string, name: string): Promise<{ server: string; tool: string }> {
    let mine = await this.names(caller, server);
    if (!mine || mine.has(name)) return { server, tool: name };
    // The cached listing may predate the tool (a server without list_changed): look once more.
    this.deps.catalog.invalidate(server, 'notifications/tools/list_changed');
    mine = await this.names(caller, server);
    if (!mine || mine.has(name)) return { server, tool: name };
    const bare = this.unprefixed(server, name);
    if (bare !== undefined && mine.has(bare)) return { server, tool: bare };
    const owner = await this.owner(caller, name, server);
    if (owner !== undefined) {
      throw new RestError(
        403,
        'tool_server_mismatch',
        `Tool ${JSON.stringify(name)} does not belong to server ${JSON.stringify(server)}; it is a tool of server ${JSON.stringify(owner.server)}: call it with server_id ${JSON.stringify(owner.server)}`,
        'name',
      );
    }
    throw new RestError(
      403,
      'access_denied',
      `Tool ${JSON.stringify(name)} is not available to this key on server ${JSON.stringify(server)}; GET /mcp-rest/tools/list?server_id=${encodeURIComponent(server)} lists the tools it may call`,
      'name',
    );
  }

  /** `tool` when `name` is `{prefix}{separator}{tool}` for this server's prefix (its alias, else its name). */
  private unprefixed(server: string, name: string): string | undefined {
    const prefix = `${this.deps.servers.get(server)?.config.alias ?? server}${this.deps.separator}`;
    return name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  }

  /** A server the caller may use (other than `except`) that has the tool, by its bare name or its namespaced one. */
  private async owner(caller: Caller, name: string, except?: string): Promise<{ server: string; tool: string } | undefined> {
    const others = this.visibleServers(caller).filter((s) => s !== except);
    const found = await Promise.all(
      others.map(async (server) => {
        const names = await this.names(caller, server).catch(() => undefined);
        const bare = this.unprefixed(server, name);
        if (names?.has(name)) return { server, tool: name };
        return bare !== undefined && names?.has(bare) ? { server, tool: bare } : undefined;
      }),
    );
    return found.find((f) => f !== undefined);
  }

  /** Without server_id (LiteLLM allows it): the server the caller may use that has the tool. */
  private async locate(caller: Caller, name: string): Promise<{ server: string; tool: string }> {
    const owner = await this.owner(caller, name);
    if (owner !== undefined) return owner;
    throw new RestError(
      403,
      'access_denied',
      `Tool ${JSON.stringify(name)} is not available to this key on any server; pass server_id`,
      'name',
    );
  }
}
