import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { presentedKey, type KeyResolver } from '../caller/keys.js';
import type { KeyRefusal } from '../caller/snapshot.js';
import type { ServerRegistry } from '../registry/registry.js';
import type { ScopeResolver } from '../router/scope.js';
import { refuse } from './error-catalogue.js';
import { ClientAborted, sendJson } from './http-util.js';
import type { Inbound, TransportDeps } from './inbound.js';
import { answerOAuthProbe } from './oauth-discovery.js';
import { setDebugHeaders } from './debug-headers.js';
import { handleSseMessage, handleSseStream } from './legacy-sse.js';
import { originAllowed } from './origin.js';
import { renderReadiness } from './readiness.js';
import { refusalOf, requestLineFields, round3, type RequestLog } from './request-log.js';
import type { HealthResult } from '../registry/health-checks.js';
import { BadPathEncoding, HEALTH_PATHS, legacySsePath, mcpSelector } from './routes.js';
import { handleDelete, handleGet, handlePost } from './streamable.js';

export { legacySsePath, mcpSelector } from './routes.js';

/** Connection-level bounds (toolgate_settings; see README). */
export interface HttpLimits {
  /** Time a client has to send all request headers (header_timeout_seconds). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included (request_timeout_seconds). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (idle_timeout_seconds). */
  idleTimeoutMs: number;
  /** Open connections at most; more are refused at accept (max_connections). */
  maxConnections: number;
}

/**
 * Another set of routes beside the MCP ones (admin API, OAuth discovery...). Asked in order after the
 * Host/Origin check; returns true when it answered the request.
 */
export type EdgeRoutes = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams | undefined,
) => boolean | Promise<boolean>;

export interface EdgeDeps extends TransportDeps {
  log: Logger;
  /** Who is asking: the master key or a virtual key from the identity snapshot. */
  keys: Pick<KeyResolver, 'resolve'> & Partial<Pick<KeyResolver, 'authenticate'>>;
  scopes: ScopeResolver;
  /** The server registry: readiness reports the servers it has now. */
  upstreams: ServerRegistry;
  allowedOrigins: string[];
  loopbackOnly: boolean;
  http: HttpLimits;
  /** Extra routers, tried before the MCP routes. */
  routes?: EdgeRoutes[];
  /** True once the first probe of every upstream has settled. */
  ready(): boolean;
  /** The last background health check of a server, shown by readiness. */
  health?: (server: string) => HealthResult;
  /** Extra readiness fields from the stages (rate-limit counters: backend, Redis up/down, fallbacks). */
  status?: () => Record<string, unknown>;
}

export function createEdgeServer(deps: EdgeDeps): Server {
  const { headersTimeoutMs, requestTimeoutMs, idleTimeoutMs, maxConnections } = deps.http;
  const server = createServer(
    {
      // Node checks the header and request timeouts on this interval (30 s by default), which is what
      // let slow-header connections live for a minute past their timeout.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeoutMs / 2)),
      headersTimeout: headersTimeoutMs,
      requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
      keepAliveTimeout: idleTimeoutMs,
    },
    (req, res) => {
      const started = performance.now();
      const q = req.url!.indexOf('?');
      const path = q < 0 ? req.url! : req.url!.slice(0, q);
      const log: RequestLog = { route: path };
      res.on('finish', () => {
        // Undefined fields are left out of the line; nothing here can hold a key or a credential.
        deps.log.info(
          {
            http: req.method,
            path,
            status: res.statusCode,
            ...requestLineFields(log),
            reason: log.reason ?? refusalOf(res),
            ms: round3(performance.now() - started),
          },
          'request',
        );
      });
      handle(req, res, path, q < 0 ? undefined : new URLSearchParams(req.url!.slice(q + 1)), log, deps).catch((err: unknown) => {
        if (err instanceof ClientAborted) {
          // The client's doing, not a gateway failure: nothing to answer, nobody to answer.
          deps.log.info({ path }, 'request aborted by the client');
          res.destroy();
          return;
        }
        deps.log.error({ err: err instanceof Error ? err.message : String(err), path }, 'request failed');
        if (!res.headersSent) refuse(res, 'internal', 'Internal error');
        else res.end();
      });
    },
  );
  server.maxConnections = maxConnections;
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams | undefined,
  log: RequestLog,
  deps: EdgeDeps,
): Promise<void> {
  // Health endpoints too: a DNS-rebinding page must not read them either.
  if (!originAllowed(req, deps.allowedOrigins, deps.loopbackOnly)) {
    return refuse(res, 'forbidden', 'Forbidden: Origin or Host not allowed (add the origin to toolgate_settings.allowed_origins)');
  }
  if (HEALTH_PATHS.has(path)) {
    if (path !== '/health/readiness') return sendJson(res, 200, { status: 'alive' });
    const r = renderReadiness(
      deps.upstreams.values(),
      deps.ready(),
      deps.sessions.size,
      deps.keys.resolve(req.headers)?.isMaster === true,
      deps.health,
    );
    return sendJson(res, r.status, { ...r.body, ...deps.status?.() });
  }
  for (const routes of deps.routes ?? []) if (await routes(req, res, path, query)) return;

  if (answerOAuthProbe(res, path)) return;
  let sse: ReturnType<typeof legacySsePath>;
  let selector: string | undefined | null;
  try {
    sse = legacySsePath(path);
    selector = sse ? sse.selector : mcpSelector(path);
  } catch (err) {
    if (!(err instanceof BadPathEncoding)) throw err;
    return sendJson(res, 400, {
      error: 'bad_request',
      message: 'Bad Request: the path has invalid percent-encoding; encode the server name with encodeURIComponent',
    });
  }
  if (selector === null)
    return sendJson(res, 404, {
      error: 'not_found',
      message: `No route for ${req.method} ${path}; MCP endpoints are /mcp and /mcp/{server}`,
    });

  const caller = deps.keys.resolve(req.headers);
  // The reason is worked out only for a refused request (a resolver may know callers but no reasons).
  if (!caller) return unauthorized(req, res, deps.keys.authenticate?.(req.headers) ?? UNKNOWN_KEY, log);
  log.key = caller.identity?.keyAlias ?? caller.keyId;
  const resolved = deps.scopes.resolve(caller, selector, req.headers, query);
  if (!resolved.ok) {
    log.server = selector?.slice(0, 100);
    log.reason = resolved.status === 404 ? 'unknown_server' : resolved.status === 403 ? 'server_denied' : 'bad_scope';
    return refuse(res, resolved.status === 404 ? 'notFound' : resolved.status === 403 ? 'forbidden' : 'badRequest', resolved.message);
  }
  const scope = resolved.scope;
  log.server = scope.servers.join(',');
  if (req.headers['x-litellm-mcp-debug']) {
    const inScope = scope.servers.flatMap((n) => deps.upstreams.get(n)?.config ?? []);
    setDebugHeaders(req, res, caller, inScope, deps.upstreamHeaders(req.headers));
  }
  const inb: Inbound = { req, res, caller, scope, log };
  if (sse) {
    if (sse.kind === 'stream' && req.method === 'GET') return handleSseStream(inb, deps, path);
    if (sse.kind === 'messages' && req.method === 'POST') return handleSseMessage(inb, deps, query);
    res.setHeader('allow', sse.kind === 'stream' ? 'GET' : 'POST');
    return refuse(res, 'methodNotAllowed', `Method ${req.method} not allowed on ${path}`);
  }
  switch (req.method) {
    case 'POST':
      return handlePost(inb, deps);
    case 'GET':
      return handleGet(inb, deps);
    case 'DELETE':
      return handleDelete(inb, deps);
    default:
      res.setHeader('allow', 'GET, POST, DELETE');
      return refuse(res, 'methodNotAllowed', `Method ${req.method} not allowed`);
  }
}

const UNKNOWN_KEY: KeyRefusal = { reason: 'unknown', message: 'Unauthorized: the key is not valid' };

const KEY_HEADERS = '"Authorization: Bearer <key>" or "x-litellm-api-key: <key>"';

/**
 * 401 that says why (no key, a wrong one, or a known key that expired or was blocked) and where the key
 * goes; never the key itself.
 */
function unauthorized(req: IncomingMessage, res: ServerResponse, auth: KeyRefusal | { ok: true }, log: RequestLog): void {
  const refusal: KeyRefusal = 'reason' in auth ? auth : UNKNOWN_KEY;
  const missing = refusal.reason === 'missing' || presentedKey(req.headers) === undefined;
  const carrier =
    typeof req.headers['x-litellm-api-key'] === 'string' && req.headers['x-litellm-api-key'] !== '' ? 'x-litellm-api-key' : 'Authorization';
  const message = missing
    ? `Unauthorized: no Toolgate key was sent; send it as ${KEY_HEADERS}`
    : refusal.reason === 'unknown'
      ? `Unauthorized: the Toolgate key sent in the ${carrier} header is not valid; check it, and send it as ${KEY_HEADERS}`
      : refusal.message;
  log.reason = missing ? 'missing_key' : refusal.reason === 'unknown' ? 'invalid_key' : `${refusal.reason}_key`;
  refuse(res, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="toolgate"${missing ? '' : ', error="invalid_token"'}` },
    data: {
      reason: log.reason,
      headers: ['Authorization: Bearer', 'x-litellm-api-key'],
    },
  });
}
