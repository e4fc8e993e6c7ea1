import { isObject, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import { UNKNOWN_CLIENT, type ClientProfile } from '../upstream/lease.js';
import { callContext } from './call-context.js';
import { LazyAbort } from '../mcp/lazy-abort.js';
import { errorReason, toErrorResponse } from './error-catalogue.js';
import type { Inbound, TransportDeps } from './inbound.js';
import { Exchange } from './mrtr.js';
import { requestShapeError } from './request-checks.js';
import { noteUpstreamTime } from './request-log.js';
import { Responder } from './responder.js';

/** The id we answer with when a curl-style body carried none (the caller reads `.result`, not the id). */
const ANONYMOUS_ID = 1;

/**
 * LiteLLM's gateway doc calls MCP with bodies like `{"method":"tools/list"}`: no `jsonrpc`, no `id`.
 * Such a body is never valid JSON-RPC (a real notification carries `jsonrpc`), so reading it as a
 * request loses nothing for spec-correct clients.
 */
export function lenientMessage(body: unknown): unknown {
  if (!isObject(body) || 'jsonrpc' in body || typeof body.method !== 'string') return body;
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : ANONYMOUS_ID;
  return { ...body, jsonrpc: '2.0', id };
}

/** What a client that sent no initialize is taken to be: the latest session era, no client capabilities. */
const SESSIONLESS_PROFILE: ClientProfile = {
  protocolVersion: LATEST_LEGACY_VERSION,
  capabilities: {},
  clientInfo: UNKNOWN_CLIENT,
  pooled: true,
};

/**
 * One 2025-era request POSTed without a session and without initialize (curl, LiteLLM's stateless
 * manager): answered over the pooled upstream session, as the spec allows a server that does not
 * require sessions. The client declared no capabilities, so upstream sampling/elicitation/roots
 * requests are refused; closing the response cancels the call.
 */
export async function handleSessionless(inb: Inbound, deps: TransportDeps, msg: JsonRpcRequest): Promise<void> {
  const { req, res, caller } = inb;
  const accept = req.headers.accept;
  const responder = new Responder(res, {}, accept === undefined || /text\/event-stream|\*\/\*/.test(accept), 1, false);
  const refused = requestShapeError(msg);
  if (refused) {
    inb.log.reason = errorReason(refused);
    return responder.finish(toErrorResponse(msg.id, refused));
  }
  const abort = new LazyAbort();
  res.on('close', () => {
    if (responder.gone) abort.abort('client closed the response');
  });
  const ctx = callContext(caller, deps.upstreamHeaders(req.headers), msg, responder, abort);
  const route = deps.router.open(inb.scope, SESSIONLESS_PROFILE, new Exchange({}));
  const started = performance.now();
  try {
    const result = await route.request(msg.method, msg.params, ctx);
    noteUpstreamTime(inb.log, started);
    responder.finish({ jsonrpc: '2.0', id: msg.id, result });
  } catch (err) {
    noteUpstreamTime(inb.log, started);
    inb.log.reason = errorReason(err);
    responder.finish(toErrorResponse(msg.id, err));
  } finally {
    await route.close();
  }
}
