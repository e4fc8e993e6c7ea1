import type { Caller } from '../caller/keys.js';
import type { HealthChecks } from '../registry/health-checks.js';
import { query, type AdminRoute } from './router.js';

export interface HealthRouteDeps {
  checks: HealthChecks;
  /** Every server name, in definition order. */
  names(): readonly string[];
  /** Whether the caller may use the server (the access decision's own answer). */
  visible(caller: Caller, server: string): boolean;
  /** The name of a stored server by its `server_id` (what `/v1/mcp/server` hands out), if it is one. */
  nameOf?(id: string): string | undefined;
  /** The stored server_id of a server name, if it is a stored server's: the id a full listing answers with. */
  idOf?(name: string): string | undefined;
}

/** Upstream error text is for operators: admins and proxy_admin_viewer read it, other keys get null. */
const seesErrors = (c: Caller) => c.isMaster || c.identity?.admin === true || c.identity?.userRole === 'proxy_admin_viewer';

/**
 * `GET /v1/mcp/server/health?server_ids=a,b`: the last background health check of each server, any
 * key, only the servers that key may use (others, like unknown ids, are left out: never revealed).
 * An id is a server name or a stored server's server_id. Without server_ids: every server the caller
 * may use. It reads results; it never probes.
 */
export function healthRoutes(deps: () => HealthRouteDeps): { routes: AdminRoute[]; prefixes: string[] } {
  const handler = query(async (ctx, q) => {
    const d = deps();
    // `server_ids=a,b` or `server_ids=a&server_ids=b`, as LiteLLM's clients send either.
    const asked = q.getAll('server_ids').flatMap((v) => v.split(',').map((s) => s.trim()));
    const ids = q.has('server_ids') ? [...new Set(asked.filter(Boolean))] : d.names().map((n) => d.idOf?.(n) ?? n);
    const known = new Set(d.names());
    const errors = seesErrors(ctx.caller);
    return ids.flatMap((id) => {
      const name = known.has(id) ? id : d.nameOf?.(id);
      if (name === undefined || !known.has(name) || !d.visible(ctx.caller, name)) return [];
      const status = d.checks.status(name);
      return [{ server_id: id, server_name: name, ...status, health_check_error: errors ? status.health_check_error : null }];
    });
  });
  return { routes: [{ method: 'GET', path: '/v1/mcp/server/health', handler, access: 'key' }], prefixes: ['/v1/mcp/server/health'] };
}
