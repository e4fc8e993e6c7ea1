import type { Caller } from '../caller/caller.js';
import type { ServerConfig } from '../config/types.js';
import type { PolicyStage } from '../policy/stage.js';
import type { ServerRegistry } from '../registry/registry.js';
import { SERVER_KIND, type StoredServers } from '../registry/stored-servers.js';
import { isSealed, type SealedValues } from '../store/sealed-values.js';
import {
  insertServerRow,
  loadServerRows,
  recordToColumns,
  replaceServerRow,
  rowToRecord,
  SERVER_TABLE,
} from '../registry/stored-server-rows.js';
import { recordAudit } from './audit.js';
import type { AdminContext } from './context.js';
import { AdminError, badRequest, notFound, readJsonObject } from './http.js';
import { AdminReply, type AdminRoute } from './router.js';
import { checkRecord, nameProblem, requestRecord, requireStorage, type ServerWriteSettings } from './server-request.js';
import { auditUrl, maskArgs, REDACTED, serverView } from './server-views.js';
import { listTools } from './server-tools.js';

/** LiteLLM's health fields for one server (the same shape as registry/health-checks.ts's HealthResult). */
export interface ServerHealthResult {
  status: 'healthy' | 'unhealthy' | 'unknown';
  last_health_check: string | null;
  health_check_error: string | null;
}

/** The background health checker (registry/health-checks.ts's HealthChecks fits): last result, and a live probe. */
export interface ServerHealth {
  status(name: string): ServerHealthResult;
  /** undefined for a server it does not know. */
  check(name: string): Promise<ServerHealthResult | undefined>;
}

export interface ServerRouteDeps {
  registry: ServerRegistry;
  policy: PolicyStage;
  /** Absent when store_model_in_db is off. */
  stored?: StoredServers;
  write: ServerWriteSettings;
  configNames: ReadonlySet<string>;
  health?: ServerHealth;
}

const isAdmin = (c: Caller) => c.isMaster || c.identity?.admin === true;

/** LiteLLM's refusal of a server write by a non-admin: checked in the handler, so the words are LiteLLM's, not the router's. */
function adminOnly(caller: Caller, verb: 'create' | 'update' | 'delete'): void {
  if (isAdmin(caller)) return;
  throw new AdminError(
    403,
    `User does not have permission to ${verb} mcp servers. You can only ${verb} mcp servers if you are a PROXY_ADMIN (the master key, or a key of a user with user_role proxy_admin)`,
    'forbidden',
    null,
  );
}

/** A server name or stored server_id the caller may use; anything else is, to it, a server that does not exist. */
function find(d: ServerRouteDeps, caller: Caller, id: string): ServerConfig {
  const name = d.registry.has(id) ? id : d.registry.names().find((n) => d.stored?.idOf(n) === id);
  if (name === undefined || !d.policy.serverVisible(caller, name)) throw notFound(`MCP server not found: server_id=${id}`, 'server_id');
  return d.registry.get(name)!.config;
}

function view(d: ServerRouteDeps, config: ServerConfig, admin: boolean): Record<string, unknown> {
  const row = d.stored?.rowOf(config.name);
  return serverView(config, row ? { server_id: String(row.server_id), row } : undefined, admin);
}

/** A live health check: the checker's probe, else (no checker wired) the server's own state after (re)connecting. */
async function healthOf(d: ServerRouteDeps, name: string): Promise<Partial<ServerHealthResult>> {
  const checked = await d.health?.check(name);
  if (checked) return { ...checked };
  const upstream = d.registry.get(name)!;
  await upstream.describe().catch(() => undefined);
  const h = upstream.health();
  const status = h.state === 'ready' ? 'healthy' : h.state === 'down' ? 'unhealthy' : 'unknown';
  return { status, last_health_check: new Date().toISOString(), health_check_error: h.error ?? null };
}

/**
 * A stored row for the audit trail: its sealed values are named, never copied (not even sealed); the
 * URL shows its query's names and the args their flags (server-views.ts), opened to be masked.
 */
function auditRow(row: Record<string, unknown>, seal: SealedValues | undefined): Record<string, unknown> {
  const names = (m: unknown) => Object.fromEntries(Object.keys((m ?? {}) as object).map((k) => [k, REDACTED]));
  const open = (v: unknown) => {
    if (!isSealed(v)) return v;
    try {
      return seal ? seal.open(v) : undefined;
    } catch {
      return undefined;
    }
  };
  const url = open(row.url);
  const args = typeof row.args === 'string' ? JSON.parse(String(open(row.args) ?? 'null')) : row.args;
  return {
    ...row,
    url: typeof url === 'string' ? auditUrl(url) : row.url === null ? null : REDACTED,
    args: Array.isArray(args) ? maskArgs(args) : row.args === null ? null : REDACTED,
    credentials: row.credentials ? REDACTED : null,
    env: names(row.env),
    static_headers: names(row.static_headers),
  };
}

/** Two writers racing for one name: the loser is told as the checks before the write would have told it. */
function nameRace(err: { code?: string }): never {
  if (err.code === '23505') throw badRequest('server_name', 'a stored server with this name already exists');
  throw err;
}

async function applyAndAnnounce(ctx: AdminContext, d: ServerRouteDeps, id: string): Promise<void> {
  // This gateway applies the change before answering; the others hear it through the store.
  await d.stored!.refresh(id);
  await ctx.store.publish({ kind: SERVER_KIND, id });
}

async function create(ctx: AdminContext, d: ServerRouteDeps, body: Record<string, unknown>): Promise<AdminReply> {
  requireStorage(d.write);
  const record = requestRecord(body);
  const config = await checkRecord(record, d.write);
  const clash = nameProblem(config, d.registry.configs(), d.configNames);
  if (clash) throw new AdminError(400, clash, 'bad_request_error', clash.split(':')[0]!);
  const cols = { ...recordToColumns(record, d.write.seal), created_by: ctx.actor, updated_by: ctx.actor };
  await ctx.store.transaction(async (tx) => {
    const taken = await tx.query(`SELECT server_id, server_name FROM ${SERVER_TABLE} WHERE server_id = $1 OR server_name = $2`, [
      record.server_id,
      record.server_name,
    ]);
    if (taken[0]) {
      const byId = taken[0].server_id === record.server_id;
      throw badRequest(byId ? 'server_id' : 'server_name', `a stored server with this ${byId ? 'id' : 'name'} already exists`);
    }
    const row = await insertServerRow(tx, cols).catch(nameRace);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'mcp_server.new',
      objectType: SERVER_KIND,
      objectId: record.server_id,
      after: auditRow(row, d.write.seal),
    });
  });
  await applyAndAnnounce(ctx, d, record.server_id);
  return new AdminReply(201, view(d, d.registry.get(config.name)?.config ?? config, true));
}

async function update(ctx: AdminContext, d: ServerRouteDeps, body: Record<string, unknown>): Promise<AdminReply> {
  requireStorage(d.write);
  if (typeof body.server_id !== 'string') throw badRequest('server_id', 'is required: the id of the stored server to change');
  const id = body.server_id;
  const [prior] = await loadServerRows(ctx.store, id);
  if (!prior) {
    if (d.configNames.has(id)) throw badRequest('server_id', `${JSON.stringify(id)} is a config.yaml server; change it in config.yaml`);
    throw notFound(`MCP server not found: server_id=${id}`, 'server_id');
  }
  let stored;
  try {
    stored = rowToRecord(prior, d.write.seal);
  } catch (err) {
    // Its sealed values do not open here (another salt key): changing it would lose them.
    throw badRequest('server_id', `${(err as Error).message}; set the salt key it was stored with`);
  }
  const record = requestRecord(body, stored);
  const config = await checkRecord(record, d.write);
  const others = d.registry.configs().filter((c) => c.name !== prior.server_name);
  const clash = nameProblem(config, others, d.configNames);
  if (clash) throw new AdminError(400, clash, 'bad_request_error', clash.split(':')[0]!);
  const cols = { ...recordToColumns(record, d.write.seal), updated_by: ctx.actor };
  await ctx.store.transaction(async (tx) => {
    const [before] = await tx.query(`SELECT * FROM ${SERVER_TABLE} WHERE server_id = $1 FOR UPDATE`, [id]);
    if (!before) throw notFound(`MCP server not found: server_id=${id}`, 'server_id');
    const after = await replaceServerRow(tx, id, cols).catch(nameRace);
    await recordAudit(tx, {
      actor: ctx.actor,
      action: 'mcp_server.update',
      objectType: SERVER_KIND,
      objectId: id,
      before: auditRow(before, d.write.seal),
      after: auditRow(after, d.write.seal),
    });
  });
  await applyAndAnnounce(ctx, d, id);
  return new AdminReply(202, view(d, d.registry.get(config.name)?.config ?? config, true));
}

async function remove(ctx: AdminContext, d: ServerRouteDeps, id: string): Promise<AdminReply> {
  requireStorage(d.write);
  const removed = await ctx.store.transaction(async (tx) => {
    const [row] = await tx.query(`DELETE FROM ${SERVER_TABLE} WHERE server_id = $1 RETURNING *`, [id]);
    if (row)
      await recordAudit(tx, {
        actor: ctx.actor,
        action: 'mcp_server.delete',
        objectType: SERVER_KIND,
        objectId: id,
        before: auditRow(row, d.write.seal),
      });
    return row;
  });
  if (!removed) {
    if (d.configNames.has(id)) throw badRequest('server_id', `${JSON.stringify(id)} is a config.yaml server; remove it from config.yaml`);
    throw notFound(`MCP server not found: server_id=${id}`, 'server_id');
  }
  await applyAndAnnounce(ctx, d, id);
  return new AdminReply(202, { server_id: id, server_name: removed.server_name, deleted: true });
}

/**
 * LiteLLM's server routes. Reads are for any key (each caller sees the servers it may use); writes
 * are for admins. The `{id}` pattern leaves `health` to the health route's own table.
 */
export function serverRoutes(deps: () => ServerRouteDeps | undefined): { routes: AdminRoute[]; prefixes: string[] } {
  const d = () => {
    const out = deps();
    if (!out) throw new AdminError(503, 'the gateway is still starting; retry in a moment', 'service_unavailable');
    return out;
  };
  const ID = /^\/v1\/mcp\/server\/(?!health$)([^/]+)$/;
  const routes: AdminRoute[] = [
    {
      method: 'GET',
      path: '/v1/mcp/server',
      access: 'key',
      handler: async (ctx) => {
        const x = d();
        const admin = isAdmin(ctx.caller);
        return x.registry
          .configs()
          .filter((c) => x.policy.serverVisible(ctx.caller, c.name))
          .map((c) => view(x, c, admin));
      },
    },
    {
      method: 'GET',
      path: ID,
      access: 'key',
      handler: async (ctx, _req, _q, [id]) => {
        const x = d();
        const config = find(x, ctx.caller, id!);
        const admin = isAdmin(ctx.caller);
        const health = await healthOf(x, config.name);
        if (!admin) delete health.health_check_error;
        return { ...view(x, config, admin), ...health };
      },
    },
    // Writes check the caller themselves, to refuse with LiteLLM's words rather than the router's.
    {
      method: 'POST',
      path: '/v1/mcp/server',
      access: 'key',
      handler: async (ctx, req) => (adminOnly(ctx.caller, 'create'), create(ctx, d(), await readJsonObject(req))),
    },
    {
      method: 'PUT',
      path: '/v1/mcp/server',
      access: 'key',
      handler: async (ctx, req) => (adminOnly(ctx.caller, 'update'), update(ctx, d(), await readJsonObject(req))),
    },
    {
      method: 'DELETE',
      path: ID,
      access: 'key',
      handler: async (ctx, _req, _q, [id]) => (adminOnly(ctx.caller, 'delete'), remove(ctx, d(), id!)),
    },
    {
      method: 'GET',
      path: '/v1/mcp/tools',
      access: 'key',
      handler: async (ctx, _req, q) => {
        const x = d();
        const only = q.get('server_id');
        const names = only ? [find(x, ctx.caller, only).name] : x.registry.names().filter((n) => x.policy.serverVisible(ctx.caller, n));
        const out = await listTools(x.registry, x.policy, ctx.caller, names, (n) => x.stored?.idOf(n) ?? n);
        // Why a server could not be listed is for operators; a key hears only which one.
        if (!isAdmin(ctx.caller)) out.errors = out.errors.map((e) => ({ server_name: e.server_name, message: 'could not be listed' }));
        return out;
      },
    },
  ];
  return { routes, prefixes: ['/v1/mcp/server', '/v1/mcp/tools'] };
}
