import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Authentication } from '../caller/keys.js';
import { BudgetExceeded, LimitExceeded, PolicyDenied } from '../mcp/errors.js';
import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import { UpstreamError } from '../upstream/transport.js';
import { callContext, type HeadersFor } from './call-context.js';
import { LazyAbort } from '../mcp/lazy-abort.js';
import { BodyTooLarge, readBody, sendJson } from './http-util.js';
import type { InputLimits } from './input-limits.js';
import { deeperThan } from './request-checks.js';
import { RestError, RestTools, type RestToolsDeps } from './rest-tools.js';

export interface RestFacadeDeps extends RestToolsDeps {
  keys: { authenticate(headers: IncomingHttpHeaders): Authentication };
  upstreamHeaders(incoming: IncomingHttpHeaders): HeadersFor;
  limits: Pick<InputLimits, 'maxBodyBytes' | 'maxJsonDepth'>;
  log: Pick<Logger, 'error'>;
}

const LIST = '/mcp-rest/tools/list';
const CALL = '/mcp-rest/tools/call';

/**
 * LiteLLM's plain-curl path: `GET /mcp-rest/tools/list?server_id=` and `POST /mcp-rest/tools/call`
 * with any valid key, mounted beside the MCP routes. Refusals use LiteLLM's management error body.
 */
export function createRestFacade(deps: RestFacadeDeps) {
  const tools = new RestTools(deps);
  return async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams | undefined): Promise<boolean> => {
    const p = path.endsWith('/') ? path.slice(0, -1) : path;
    if (p !== LIST && p !== CALL) return false;
    try {
      const want = p === LIST ? 'GET' : 'POST';
      if (req.method !== want) {
        res.setHeader('allow', want);
        throw new RestError(405, 'method_not_allowed', `${req.method} is not allowed on ${p}; use ${want}`, 'method');
      }
      const auth = deps.keys.authenticate(req.headers);
      if (!auth.ok) {
        res.setHeader('www-authenticate', 'Bearer realm="toolgate"');
        throw new RestError(401, auth.reason === 'expired' ? 'expired_key' : 'auth_error', auth.message, 'key');
      }
      const abort = new LazyAbort();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort('client closed the response');
      });
      const ctx = callContext(auth.caller, deps.upstreamHeaders(req.headers), undefined, undefined, abort);
      if (p === LIST) {
        const serverId = query?.get('server_id') ?? undefined;
        const listed = await tools.list(auth.caller, serverId === '' ? undefined : serverId, ctx);
        sendJson(res, listed.status, listed.body, NO_STORE);
      } else {
        sendJson(res, 200, await tools.call(auth.caller, await readObject(req, deps.limits), ctx), NO_STORE);
      }
    } catch (err) {
      if (err instanceof LimitExceeded && err.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(err.retryAfterSeconds));
      const r = err instanceof RestError ? err : toRest(err);
      if (r.status === 500) deps.log.error({ err: err instanceof Error ? err.message : String(err), path: p }, 'REST request failed');
      sendJson(res, r.status, { error: { message: r.message, type: r.type, param: r.param, code: String(r.status) } }, NO_STORE);
    }
    return true;
  };
}

const NO_STORE = { 'cache-control': 'no-store' };

async function readObject(req: IncomingMessage, limits: RestFacadeDeps['limits']): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readBody(req, limits.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge)
      throw new RestError(413, 'bad_request_error', `request body exceeds ${limits.maxBodyBytes} bytes (max_body_bytes)`, 'body');
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RestError(400, 'bad_request_error', 'request body is not valid JSON; send {"server_id", "name", "arguments"}', 'body');
  }
  if (!isObject(body))
    throw new RestError(400, 'bad_request_error', 'request body must be a JSON object {"server_id", "name", "arguments"}', 'body');
  if (deeperThan(body, limits.maxJsonDepth)) {
    throw new RestError(400, 'bad_request_error', `request body nests deeper than ${limits.maxJsonDepth} levels (max_json_depth)`, 'body');
  }
  return body;
}

/** A failure of the MCP path in REST terms: refusals keep their meaning, upstream trouble is a 502. */
function toRest(err: unknown): RestError {
  if (err instanceof PolicyDenied) return new RestError(403, 'access_denied', err.message);
  if (err instanceof LimitExceeded) return new RestError(429, 'rate_limit_error', err.message);
  if (err instanceof BudgetExceeded) return new RestError(400, 'budget_exceeded', err.message);
  // The access decision's "unknown tool" (a tool hidden by grants reads the same): a refusal, never a hint.
  if (err instanceof McpError && err.code === ErrorCode.InvalidParams && /^Unknown tool /.test(err.message))
    return new RestError(403, 'access_denied', err.message, 'name');
  if (err instanceof UpstreamError) return new RestError(502, 'upstream_error', err.message);
  if (err instanceof McpError) return new RestError(err.code === ErrorCode.InvalidParams ? 400 : 502, 'mcp_error', err.message);
  return new RestError(500, 'internal_error', 'Internal error while handling the REST request; see the gateway log');
}
