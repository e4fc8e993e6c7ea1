import { ErrorCode, isObject, McpError, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { envelope, META } from '../mcp/modern.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import { declaresTasks, TASK_ID_METHODS, TASKS_EXTENSION } from '../router/tasks.js';
import { UNKNOWN_CLIENT, type ClientProfile } from '../upstream/lease.js';
import { callContext } from './call-context.js';
import { LazyAbort } from '../mcp/lazy-abort.js';
import { sendRpcError } from './error-catalogue.js';
import type { Inbound, TransportDeps } from './inbound.js';
import { bridgeCall } from './modern-bridge.js';
import { discover } from './modern-discover.js';
import { checkModernRequest } from './modern-ladder.js';
import { listen } from './modern-listen.js';
import { finishError, type ModernRequest } from './modern-reply.js';
import { accepts } from './negotiate.js';
import { requestShapeError } from './request-checks.js';
import { Responder } from './responder.js';

type Result = Record<string, unknown>;

/**
 * One 2026-07-28 request: stateless, validated by the header ladder, then dispatched to discover,
 * listen or the bridge (modern-*.ts), each answering with `resultType` and the era's error statuses.
 */
export async function handleModern(inb: Inbound, deps: TransportDeps, msg: JsonRpcRequest): Promise<void> {
  const { req, res, caller } = inb;
  const rejection = checkModernRequest(msg, req.headers);
  if (rejection) inb.log.reason = 'invalid_request';
  if (rejection) return sendRpcError(res, rejection.status, rejection.code, rejection.message, { id: msg.id, data: rejection.data });

  const meta = envelope(msg);
  const capabilities = meta[META.clientCapabilities] as Result;
  const profile: ClientProfile = {
    protocolVersion: LATEST_LEGACY_VERSION,
    capabilities,
    clientInfo: isObject(meta[META.clientInfo]) ? (meta[META.clientInfo] as Result) : UNKNOWN_CLIENT,
    pooled: true,
  };
  const headersFor = deps.upstreamHeaders(req.headers);
  const abort = new LazyAbort();
  const responder = new Responder(res, {}, accepts(req, 'text/event-stream'), 1, false, deps.limits);
  // Closing the response stream is how a stateless client cancels.
  res.on('close', () => {
    if (responder.gone) abort.abort('client closed the response stream');
  });
  const ctx = callContext(caller, headersFor, msg, responder, abort);

  const refused = requestShapeError(msg);
  if (refused) return finishError(responder, msg, refused, inb.log);
  if (needsTasksExtension(msg) && !declaresTasks(capabilities)) {
    // SEP-2663: the task surface (and task status on a listen stream) exists only for requests that opt in.
    const err = new McpError(
      ErrorCode.MissingRequiredClientCapability,
      `${msg.method} requires the ${TASKS_EXTENSION} extension in clientCapabilities`,
      {
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      },
    );
    return finishError(responder, msg, err, inb.log);
  }
  const request: ModernRequest = { inb, deps, msg, profile, ctx, reply: responder };
  if (msg.method === 'subscriptions/listen') return listen(request);
  if (msg.method === 'server/discover') return discover(request);
  return bridgeCall(request);
}

function needsTasksExtension(msg: JsonRpcRequest): boolean {
  // tasks/result never gets here: the ladder already answered it 404 (the extension removed it).
  if (TASK_ID_METHODS.has(msg.method)) return true;
  const n = msg.method === 'subscriptions/listen' && isObject(msg.params?.notifications) ? msg.params.notifications : undefined;
  return Array.isArray(n?.taskIds) && n.taskIds.length > 0;
}
