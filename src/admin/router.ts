import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller, KeyResolver } from '../caller/keys.js';
import { queryAudit } from './audit.js';
import type { AdminContext, AdminDeps } from './context.js';
import { AdminError, readJsonObject, sendAdminError, sendAdminJson } from './http.js';
import * as keys from './keys.js';
import * as organizations from './organizations.js';
import * as teams from './teams.js';
import * as users from './users.js';

type Handler = (ctx: AdminContext, req: IncomingMessage, q: URLSearchParams, params: string[]) => Promise<unknown>;
export const body =
  (fn: (ctx: AdminContext, b: Record<string, unknown>) => Promise<unknown>): Handler =>
  async (ctx, req) =>
    fn(ctx, await readJsonObject(req));
export const query =
  (fn: (ctx: AdminContext, q: URLSearchParams) => Promise<unknown>): Handler =>
  (ctx, _req, q) =>
    fn(ctx, q);

/** A response with a status other than 200 (LiteLLM answers some writes with 201 or 202). */
export class AdminReply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/**
 * Who may use a route: `admin` (the master key or a proxy_admin user's key), or `key` (any valid key;
 * the handler then answers only with what that caller may see).
 */
export type RouteAccess = 'admin' | 'key';

/** One management route: a literal path, or a pattern whose groups become the handler's `params`. */
export interface AdminRoute {
  method: string;
  path: string | RegExp;
  handler: Handler;
  access?: RouteAccess;
}

/** LiteLLM's identity routes. Other route tables (servers, spend...) are handed to createAdminHandler beside these. */
const IDENTITY_ROUTES: AdminRoute[] = [
  { method: 'POST', path: '/key/generate', handler: body(keys.generate) },
  { method: 'POST', path: '/key/update', handler: body(keys.update) },
  { method: 'POST', path: '/key/delete', handler: body(keys.remove) },
  // The one identity route a non-admin key may use: reading its own key (keys.info checks which).
  { method: 'GET', path: '/key/info', handler: query(keys.info), access: 'key' },
  { method: 'GET', path: '/key/list', handler: query(keys.list) },
  { method: 'POST', path: '/key/block', handler: body(keys.block) },
  { method: 'POST', path: '/key/unblock', handler: body(keys.unblock) },
  {
    method: 'POST',
    path: /^\/key\/([^/]+)\/regenerate$/,
    handler: async (ctx, req, _q, [ref]) => keys.regenerate(ctx, ref!, await readJsonObject(req)),
  },
  { method: 'POST', path: '/team/new', handler: body(teams.create) },
  { method: 'POST', path: '/team/update', handler: body(teams.update) },
  { method: 'POST', path: '/team/delete', handler: body(teams.remove) },
  { method: 'GET', path: '/team/info', handler: query(teams.info) },
  { method: 'GET', path: '/team/list', handler: query(teams.list) },
  { method: 'POST', path: '/team/member_add', handler: body(teams.memberAdd) },
  { method: 'POST', path: '/team/member_delete', handler: body(teams.memberDelete) },
  { method: 'POST', path: '/organization/new', handler: body(organizations.create) },
  { method: 'PATCH', path: '/organization/update', handler: body(organizations.update) },
  { method: 'DELETE', path: '/organization/delete', handler: body(organizations.remove) },
  { method: 'GET', path: '/organization/info', handler: query(organizations.info) },
  { method: 'GET', path: '/organization/list', handler: query(organizations.list) },
  { method: 'POST', path: '/organization/member_add', handler: body(organizations.memberAdd) },
  { method: 'POST', path: '/user/new', handler: body(users.create) },
  { method: 'GET', path: '/user/info', handler: query(users.info) },
  { method: 'POST', path: '/user/update', handler: body(users.update) },
  { method: 'POST', path: '/user/delete', handler: body(users.remove) },
  { method: 'GET', path: '/user/list', handler: query(users.list) },
  { method: 'GET', path: '/audit', handler: query((ctx, q) => queryAudit(ctx.store, q)) },
];
const IDENTITY_PREFIXES = ['/key/', '/team/', '/organization/', '/user/', '/audit'];

/** A path parameter, percent-decoded; bad encoding (`%`, `%zz`) is the client's mistake: a 400 naming it. */
function decodeParam(g: string): string {
  try {
    return decodeURIComponent(g);
  } catch {
    throw new AdminError(
      400,
      `the path holds a malformed percent-encoding (${JSON.stringify(g.slice(0, 50))})`,
      'bad_request_error',
      'path',
    );
  }
}

/** The route for a method and path, and the methods the path allows (for 405's Allow header). */
function match(routes: readonly AdminRoute[], method: string, path: string): { route?: AdminRoute; params: string[]; allowed: string[] } {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const allowed: string[] = [];
  let found: { route: AdminRoute; params: string[] } | undefined;
  for (const r of routes) {
    let params: string[] | undefined;
    if (typeof r.path === 'string') params = r.path === p ? [] : undefined;
    else {
      const m = r.path.exec(p);
      params = m ? m.slice(1).map(decodeParam) : undefined;
    }
    if (!params) continue;
    allowed.push(r.method);
    if (!found && r.method === method) found = { route: r, params };
  }
  return { route: found?.route, params: found?.params ?? [], allowed };
}

/**
 * The management API, mounted beside the MCP routes: returns false for paths that are not its own so
 * the edge answers them. Routes need an admin (the master key or a proxy_admin user's key) unless
 * their table says any key may use them.
 */
export function createAdminHandler(
  deps: AdminDeps & { keys: KeyResolver },
  extra: { routes: readonly AdminRoute[]; prefixes: readonly string[] }[] = [],
) {
  const routes = [...IDENTITY_ROUTES, ...extra.flatMap((e) => e.routes)];
  const prefixes = [...IDENTITY_PREFIXES, ...extra.flatMap((e) => e.prefixes)];
  return async (req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams | undefined): Promise<boolean> => {
    if (!prefixes.some((p) => path.startsWith(p))) return false;
    try {
      const { route, params, allowed } = match(routes, req.method ?? 'GET', path);
      if (!route && allowed.length === 0) throw new AdminError(404, `No management route ${req.method} ${path}`, 'not_found_error', 'path');
      if (!route) {
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
      // LiteLLM's proxy_admin_viewer reads everything an admin reads and changes nothing.
      const viewer = !admin && caller.identity?.userRole === 'proxy_admin_viewer';
      if (!admin && route.access !== 'key' && !(viewer && route.method === 'GET')) {
        throw new AdminError(
          403,
          viewer
            ? `A proxy_admin_viewer key may only read the management API (GET routes); ${req.method} ${path} needs a proxy_admin`
            : 'Only proxy admins may use the management API (the master key, or a key of a user with user_role proxy_admin)',
          'forbidden',
          null,
        );
      }
      const ctx: AdminContext = { ...deps, caller, actor: actorOf(caller) };
      const result = await route.handler(ctx, req, q ?? new URLSearchParams(), params);
      if (result instanceof AdminReply) sendAdminJson(res, result.status, result.body);
      else sendAdminJson(res, 200, result);
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
