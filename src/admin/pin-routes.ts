import type { ToolPin } from '../config/types.js';
import { PINS_KIND, type PinBook } from '../policy/pins/book.js';
import { pinOf } from '../policy/pins/fingerprint.js';
import type { ServerSource } from '../registry/registry.js';
import { recordAudit } from './audit.js';
import type { AdminContext } from './context.js';
import { AdminError, badRequest, notFound, readJsonObject } from './http.js';
import type { AdminRoute } from './router.js';

type Item = Record<string, unknown>;

export interface PinRouteDeps {
  book: PinBook;
  servers: Pick<ServerSource, 'get' | 'names'>;
  /** The server's tools as its upstream lists them now. */
  listTools(server: string): Promise<Item[]>;
}

const PIN_PATH = /^\/v1\/mcp\/server\/([^/]+)\/pin$/;

/** The answer's shape: LiteLLM's `pinned_tools: {tool: {description, input_schema}}`. */
function shown(server: string, pins: ReadonlyMap<string, { pin: ToolPin }> | undefined): Item {
  const pinned = Object.fromEntries(
    [...(pins ?? [])].map(([tool, { pin }]) => [tool, { description: pin.description, input_schema: pin.inputSchema }]),
  );
  return { server_id: server, pinned: pins !== undefined, pinned_tools: pinned };
}

function known(deps: PinRouteDeps, server: string): void {
  if (!deps.servers.get(server))
    throw notFound(`No MCP server ${server}; known: ${deps.servers.names().join(', ') || 'none'}`, 'server_id');
}

/**
 * `POST /v1/mcp/server/{id}/pin` pins the server's tools as its upstream lists them now (all, or
 * `{"tools": [...]}`): a drifted tool is accepted this way. `DELETE` removes the stored pins (config
 * `pinned_tools` then apply again; `pin_tools: true` learns afresh). `GET` shows the pins in force.
 */
export function pinRoutes(deps: PinRouteDeps): { routes: AdminRoute[]; prefixes: string[] } {
  const pin = async (ctx: AdminContext, body: Item, server: string) => {
    known(deps, server);
    if (body.tools !== undefined && (!Array.isArray(body.tools) || !body.tools.every((t) => typeof t === 'string'))) {
      throw badRequest('tools', 'expected a list of tool names');
    }
    let listed: Item[];
    try {
      listed = await deps.listTools(server);
    } catch (err) {
      throw new AdminError(
        502,
        `Cannot list the tools of server ${server} to pin them: ${(err as Error).message}`,
        'upstream_error',
        'server_id',
      );
    }
    const wanted = body.tools as string[] | undefined;
    const missing = wanted?.filter((t) => !listed.some((l) => l.name === t)) ?? [];
    if (missing.length > 0) throw badRequest('tools', `server ${server} does not list ${missing.join(', ')}`);
    const tools = Object.fromEntries(
      listed.filter((t) => typeof t.name === 'string' && (!wanted || wanted.includes(t.name))).map((t) => [t.name as string, pinOf(t)]),
    );
    await ctx.store
      .transaction(async (tx) => {
        await deps.book.save(server, tools, ctx.actor, { tx });
        await recordAudit(tx, {
          actor: ctx.actor,
          action: 'mcp_tools_pinned',
          objectType: 'mcp_server',
          objectId: server,
          after: { tools: Object.keys(tools) },
        });
      })
      .catch(async (err: unknown) => {
        // The pins went into memory before the commit: a failed write must not leave them there.
        await deps.book.reload().catch(() => {});
        throw err;
      });
    await ctx.store.publish({ kind: PINS_KIND, id: server });
    return shown(server, deps.book.pins(server));
  };
  const unpin = async (ctx: AdminContext, server: string) => {
    known(deps, server);
    const removed = await ctx.store.transaction(async (tx) => {
      const had = await deps.book.clear(server, tx);
      if (had) await recordAudit(tx, { actor: ctx.actor, action: 'mcp_tools_unpinned', objectType: 'mcp_server', objectId: server });
      return had;
    });
    await ctx.store.publish({ kind: PINS_KIND, id: server });
    if (!removed)
      throw notFound(
        `Server ${server} has no stored pins${deps.book.pins(server) ? ' (its pinned_tools come from config.yaml)' : ''}`,
        'server_id',
      );
    return shown(server, deps.book.pins(server));
  };
  return {
    prefixes: ['/v1/mcp/server/'],
    routes: [
      { method: 'POST', path: PIN_PATH, handler: async (ctx, req, _q, [id]) => pin(ctx, await readJsonObject(req), id!) },
      { method: 'DELETE', path: PIN_PATH, handler: (ctx, _req, _q, [id]) => unpin(ctx, id!) },
      {
        method: 'GET',
        path: PIN_PATH,
        handler: async (_ctx, _req, _q, [id]) => {
          known(deps, id!);
          return shown(id!, deps.book.pins(id!));
        },
      },
    ],
  };
}
