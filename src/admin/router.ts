import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller, KeyResolver } from '../caller/keys.js';
import { queryAudit } from './audit.js';
import type { AdminContext, AdminDeps } from './context.js';
import { AdminError, readJsonObject, sendAdminError, sendAdminJson } from './http.js';
import * as keys from './keys.js';
import * as organizations from './organizations.js';
import * as teams from './teams.js';
import * as users from './users.js';

type Handler = (ctx: AdminContext, req: IncomingMessage, q: URLSearchParams) => Promise<unknown>;
const body =
  (fn: (ctx: AdminContext, b: Record<string, unknown>) => Promise<unknown>): Handler =>
  async (ctx, req) =>
    fn(ctx, await readJsonObject(req));
const query =
  (fn: (ctx: AdminContext, q: URLSearchParams) => Promise<unknown>): Handler =>
  (ctx, _req, q) =>
    fn(ctx, q);

/** LiteLLM's management routes, by "METHOD path". */
const ROUTES = new Map<string, Handler>([
  ['POST /key/generate', body(keys.generate)],
  ['POST /key/update', body(keys.update)],
  ['POST /key/delete', body(keys.remove)],
  ['GET /key/info', query(keys.info)],
  ['GET /key/list', query(keys.list)],
  ['POST /key/block', body(keys.block)],
  ['POST /key/unblock', body(keys.unblock)],
  ['POST /team/new', body(teams.create)],
  ['POST /team/update', body(teams.update)],
  ['POST /team/delete', body(teams.remove)],
  ['GET /team/info', query(teams.info)],
  ['GET /team/list', query(teams.list)],
  ['POST /team/member_add', body(teams.memberAdd)],
  ['POST /team/member_delete', body(teams.memberDelete)],
  ['POST /organization/new', body(organizations.create)],
  ['PATCH /organization/update', body(organizations.update)],
  ['DELETE /organization/delete', body(organizations.remove)],
  ['GET /organization/info', query(organizations.info)],
  ['GET /organization/list', query(organizations.list)],
  ['POST /organization/member_add', body(organizations.memberAdd)],
  ['POST /user/new', body(users.create)],
  ['GET /user/info', query(users.info)],
  ['POST /user/update', body(users.update)],
  ['POST /user/delete', body(users.remove)],
  ['GET /user/list', query(users.list)],
  ['GET /audit', query((ctx, q) => queryAudit(ctx.store, q))],
]);
const PREFIXES = ['/key/', '/team/', '/organization/', '/user/', '/audit'];
/** The one route a non-admin key may use: reading its own key. */
const SELF_SERVICE = 'GET /key/info';

function route(method: string, path: string): { handler?: Handler; allowed: string[] } {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const regen = /^\/key\/([^/]+)\/regenerate$/.exec(p);
  if (regen) {
    const ref = decodeURIComponent(regen[1]);
    const handler: Handler = async (ctx, req) => keys.regenerate(ctx, ref, await readJsonObject(req));
    return { handler: method === 'POST' ? handler : undefined, allowed: ['POST'] };
  }
  const allowed = [...ROUTES.keys()].filter((k) => k.endsWith(' ' + p)).map((k) => k.split(' ')[0]);
  return { handler: ROUTES.get(`${method} ${p}`), allowed };
}

/**
 * The management API, mounted beside the MCP routes: returns false for paths that are not its own so
 * the edge answers them. Every route needs an admin (the master key or a proxy_admin user's key) except
 * GET /key/info for the caller's own key.
 */
export function createAdminHandler(deps: AdminDeps & { keys: KeyResolver }) {
  return async (req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams | undefined): Promise<boolean> => {
    if (!PREFIXES.some((p) => path.startsWith(p))) return false;
    try {
      const { handler, allowed } = route(req.method ?? 'GET', path);
      if (!handler && allowed.length === 0)
        throw new AdminError(404, `No management route ${req.method} ${path}`, 'not_found_error', 'path');
      if (!handler) {
        res.setHeader('allow', allowed.join(', '));
        throw new AdminError(405, `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}`, 'method_not_allowed', 'method');
      }
      const auth = deps.keys.authenticate(req.headers);
      if (!auth.ok) {
        sendAdminError(res, new AdminError(401, auth.message, auth.reason === 'expired' ? 'expired_key' : 'auth_error', 'key'), {
          'www-authenticate': 'Bearer realm="toolgate"',
        });
        return true;
      }
      const caller = auth.caller;
      const admin = caller.isMaster || caller.identity?.admin === true;
      if (!admin && `${req.method} ${path.replace(/\/$/, '')}` !== SELF_SERVICE) {
        throw new AdminError(
          403,
          'Only proxy admins may use the management API (the master key, or a key of a user with user_role proxy_admin)',
          'forbidden',
          null,
        );
      }
      const ctx: AdminContext = { ...deps, caller, actor: actorOf(caller) };
      const result = await handler(ctx, req, q ?? new URLSearchParams());
      sendAdminJson(res, 200, result);
    } catch (err) {
      if (err instanceof AdminError) sendAdminError(res, err);
      else {
        deps.log.error({ err: err instanceof Error ? err.message : String(err), path }, 'management request failed');
        sendAdminError(
          res,
          new AdminError(500, 'Internal error while handling the management request; see the gateway log', 'internal_error'),
        );
      }
    }
    return true;
  };
}

/** Who the audit trail names: the master key, a user (by id) or a key (by its non-secret id). */
function actorOf(caller: Caller): string {
  if (caller.isMaster) return 'master';
  return caller.identity?.userId !== undefined ? `user:${caller.identity.userId}` : caller.keyId;
}

export type AdminHandler = ReturnType<typeof createAdminHandler>;
