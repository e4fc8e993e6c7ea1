import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { KeyResolver } from '../caller/keys.js';
import { ErrorCode } from '../mcp/jsonrpc.js';
import type { ScopeResolver } from '../router/scope.js';
import type { Upstream } from '../upstream/upstream.js';
import { sendJson, sendRpcError } from './http-util.js';
import { answerOAuthProbe } from './oauth-discovery.js';
import { setDebugHeaders } from './debug-headers.js';
import { originAllowed } from './origin.js';
import type { RequestLog } from './request-log.js';
import { handleSseMessage, handleSseStream } from './legacy-sse.js';
import { handleDelete, handleGet, handlePost, type StreamableDeps } from './streamable.js';

export interface EdgeDeps extends StreamableDeps {
  log: Logger;
  keys: KeyResolver;
  scopes: ScopeResolver;
  upstreams: Map<string, Upstream>;
  allowedOrigins: string[];
  loopbackOnly: boolean;
  /** True once the first probe of every upstream has settled. */
  ready(): boolean;
}

/** `/mcp`, `/mcp/{sel}` or `/{sel}/mcp`: the selector, or undefined for bare `/mcp`; null when not an MCP path. */
export function mcpSelector(path: string): string | undefined | null {
  if (path === '/mcp' || path === '/mcp/') return undefined;
  if (path.startsWith('/mcp/')) {
    const rest = path.slice(5).replace(/\/$/, '');
    return rest.includes('/') ? null : decodeURIComponent(rest);
  }
  if (path.endsWith('/mcp') || path.endsWith('/mcp/')) {
    const sel = path.slice(1, path.lastIndexOf('/mcp'));
    return sel && !sel.includes('/') ? decodeURIComponent(sel) : null;
  }
  return null;
}

/** Legacy HTTP+SSE paths: `/sse`, `/mcp/sse` (aggregate) and `/mcp/{sel}/sse`, each with `/messages` for POSTs. */
export function legacySsePath(path: string): { selector: string | undefined; kind: 'stream' | 'messages' } | null {
  let p = path.endsWith('/') ? path.slice(0, -1) : path;
  let kind: 'stream' | 'messages' = 'stream';
  if (p.endsWith('/sse/messages') || p.endsWith('/sse/message')) {
    kind = 'messages';
    p = p.slice(0, p.lastIndexOf('/'));
  }
  if (p === '/sse' || p === '/mcp/sse') return { selector: undefined, kind };
  if (p.startsWith('/mcp/') && p.endsWith('/sse')) {
    const sel = p.slice(5, -4);
    return sel && !sel.includes('/') ? { selector: decodeURIComponent(sel), kind } : null;
  }
  return null;
}

export function createEdgeServer(deps: EdgeDeps): Server {
  const server = createServer((req, res) => {
    const started = performance.now();
    const q = req.url!.indexOf('?');
    const path = q < 0 ? req.url! : req.url!.slice(0, q);
    const log: RequestLog = { route: path };
    res.on('finish', () => {
      deps.log.info(
        {
          http: req.method,
          path,
          server: log.server,
          method: log.method,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 1000) / 1000,
        },
        'request',
      );
    });
    handle(req, res, path, q < 0 ? undefined : new URLSearchParams(req.url!.slice(q + 1)), log, deps).catch((err: unknown) => {
      deps.log.error({ err: err instanceof Error ? err.message : String(err), path }, 'request failed');
      if (!res.headersSent) sendRpcError(res, 500, ErrorCode.InternalError, 'Internal error');
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
  if (path === '/health/liveliness' || path === '/health/liveness') return sendJson(res, 200, { status: 'alive' });
  if (path === '/health/readiness') return readiness(res, deps);

  if (answerOAuthProbe(res, path)) return;
  const sse = legacySsePath(path);
  const selector = sse ? sse.selector : mcpSelector(path);
  if (selector === null)
    return sendJson(res, 404, {
      error: 'not_found',
      message: `No route for ${req.method} ${path}; MCP endpoints are /mcp and /mcp/{server}`,
    });

  if (!originAllowed(req, deps.allowedOrigins, deps.loopbackOnly)) {
    return sendRpcError(res, 403, ErrorCode.InvalidRequest, 'Forbidden: Origin or Host not allowed');
  }
  const caller = deps.keys.resolve(req.headers);
  if (!caller) {
    return sendRpcError(
      res,
      401,
      ErrorCode.InvalidRequest,
      'Unauthorized: send the Toolgate key as "Authorization: Bearer <key>" or "x-litellm-api-key: <key>"',
      {
        headers: { 'www-authenticate': 'Bearer realm="toolgate"' },
      },
    );
  }
  const resolved = deps.scopes.resolve(selector, req.headers, query);
  if (!resolved.ok) return sendRpcError(res, resolved.status, ErrorCode.InvalidRequest, resolved.message);
  const scope = resolved.scope;
  log.server = scope.servers.join(',');
  if (req.headers['x-litellm-mcp-debug']) {
    const inScope = scope.servers.flatMap((n) => deps.upstreams.get(n)?.config ?? []);
    setDebugHeaders(req, res, caller, inScope, deps.upstreamHeaders(req.headers));
  }
  const inb = { req, res, caller, scope, log };
  if (sse) {
    if (sse.kind === 'stream' && req.method === 'GET') return handleSseStream(inb, deps, path);
    if (sse.kind === 'messages' && req.method === 'POST') return handleSseMessage(inb, deps, query);
    res.setHeader('allow', sse.kind === 'stream' ? 'GET' : 'POST');
    return sendRpcError(res, 405, ErrorCode.InvalidRequest, `Method ${req.method} not allowed on ${path}`);
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
      return sendRpcError(res, 405, ErrorCode.InvalidRequest, `Method ${req.method} not allowed`);
  }
}

function readiness(res: ServerResponse, deps: EdgeDeps): void {
  const servers: Record<string, { transport: string; state: string; error?: string }> = {};
  let down = 0;
  for (const u of deps.upstreams.values()) {
    servers[u.name] = { transport: u.config.transport, state: u.state, ...(u.lastError ? { error: u.lastError } : {}) };
    if (u.state !== 'ready') down++;
  }
  const ready = deps.ready();
  sendJson(res, ready ? 200 : 503, {
    status: !ready ? 'starting' : down === 0 ? 'healthy' : 'degraded',
    sessions: deps.sessions.size,
    servers,
  });
}
