import { ErrorCode, McpError, errorResponse, isObject, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { CACHEABLE_METHODS, envelope, META, nameField } from '../mcp/modern.js';
import { LATEST_LEGACY_VERSION, LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS } from '../mcp/versions.js';
import type { CallContext, RouteSession } from '../router/route.js';
import { declaresTasks, modernCapabilities, TASK_ID_METHODS, TASKS_EXTENSION } from '../router/tasks.js';
import { UNKNOWN_CLIENT, type ClientProfile, type ClientSink } from '../upstream/lease.js';
import { TOOLGATE_VERSION } from '../version.js';
import { toErrorResponse } from './downstream.js';
import { sendRpcError } from './http-util.js';
import { checkModernRequest } from './modern-ladder.js';
import { Exchange } from './mrtr.js';
import { FORWARDED_HEADER, forwardRetry } from './replica-forward.js';
import { Responder } from './responder.js';
import { SseStream } from './sse.js';
import type { Inbound, StreamableDeps } from './streamable.js';

type Result = Record<string, unknown>;

export type ModernDeps = StreamableDeps;

const SERVER_INFO = { name: 'toolgate', version: TOOLGATE_VERSION };
// logLevel stays: a 2026 upstream reads it per request, a 2025 one ignores an unknown _meta key.
const ENVELOPE_KEYS = new Set<string>([META.protocolVersion, META.clientCapabilities, META.clientInfo]);

/**
 * One 2026-07-28 request: stateless, validated by the header ladder, answered with `resultType`
 * (and cache hints where the result is cacheable). Upstreams of the 2025 era are reached over
 * pooled sessions; their server-to-client requests become `input_required` rounds.
 */
export async function handleModern(inb: Inbound, deps: ModernDeps, msg: JsonRpcRequest): Promise<void> {
  const { req, res, caller } = inb;
  const rejection = checkModernRequest(msg, req.headers);
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
  const abort = new AbortController();
  const responder = new Responder(res, {}, acceptsSse(req.headers.accept), 1, false);
  // Closing the response stream is how a stateless client cancels.
  res.on('close', () => {
    if (responder.gone) abort.abort('client closed the response stream');
  });
  const token = isObject(msg.params?._meta) ? msg.params._meta.progressToken : undefined;
  const ctx: CallContext = {
    caller,
    signal: abort.signal,
    headersFor,
    onProgress:
      token === undefined
        ? undefined
        : (p) => void responder.related({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...p, progressToken: token } }),
  };

  if (needsTasksExtension(msg) && !declaresTasks(capabilities)) {
    // SEP-2663: the task surface (and task status on a listen stream) exists only for requests that opt in.
    return finishError(
      responder,
      errorResponse(
        msg.id,
        ErrorCode.MissingRequiredClientCapability,
        `${msg.method} requires the ${TASKS_EXTENSION} extension in clientCapabilities`,
        {
          requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
        },
      ),
    );
  }
  if (msg.method === 'subscriptions/listen') return listen(inb, deps, msg, profile, ctx);
  if (msg.method === 'server/discover') {
    const route = deps.router.open(inb.scope, profile, new Exchange(capabilities));
    try {
      const init = await route.initialize(ctx);
      const result: Result = {
        supportedVersions: [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS],
        capabilities: modernCapabilities(isObject(init.capabilities) ? init.capabilities : {}),
      };
      if (typeof init.instructions === 'string') result.instructions = init.instructions;
      return responder.finish(stamp(msg, result));
    } catch (err) {
      return finishError(responder, modernError(msg, err));
    } finally {
      await route.close();
    }
  }

  const name = nameOf(msg);
  const given = typeof msg.params?.requestState === 'string' ? msg.params.requestState : undefined;
  // Our bridge's state resumes a call held here; any other state belongs to a 2026 upstream and
  // travels on (wrapped) with the client's inputResponses, for the upstream's lease to unwrap.
  const state = given !== undefined && deps.exchanges.tokens.isOurs(given) ? given : undefined;
  const holder = state !== undefined && req.headers[FORWARDED_HEADER] === undefined ? deps.exchanges.holder(state) : undefined;
  if (holder) return forwardRetry(req, res, msg, holder);
  const params = forwardParams(msg.params, state === undefined);
  let exchange: Exchange;
  let call: Promise<Result>;
  let close: () => void;
  try {
    if (state !== undefined) {
      // A retry: only state we minted resumes anything; an upstream's own state would have been wrapped.
      const s = deps.exchanges.resume(state, { k: caller.keyId, m: msg.method, n: name });
      exchange = s.exchange;
      call = s.call;
      close = s.close;
      exchange.answer(msg.params?.inputResponses, capabilities);
    } else {
      exchange = new Exchange(capabilities);
      const route: RouteSession = deps.router.open(inb.scope, profile, exchange);
      // An exchange abandoned after its expiry cancels the upstream call too (notifications/cancelled).
      call = route.request(msg.method, params, { ...ctx, signal: AbortSignal.any([ctx.signal, exchange.signal]) });
      close = () => void route.close();
    }
  } catch (err) {
    return finishError(responder, modernError(msg, err));
  }
  const settled = call.then(
    (result) => ({ done: true as const, result }),
    (error: unknown) => ({ done: true as const, error }),
  );
  const outcome = await Promise.race([settled, exchange.inputNeeded().then(() => ({ done: false as const }))]);
  if (!outcome.done) {
    const requestState = deps.exchanges.suspend(exchange, call, close, { x: exchange.id, k: caller.keyId, m: msg.method, n: name });
    return responder.finish({
      jsonrpc: '2.0',
      id: msg.id,
      result: {
        resultType: 'input_required',
        inputRequests: exchange.inputRequests(),
        requestState,
        _meta: { [META.serverInfo]: SERVER_INFO },
      },
    });
  }
  close();
  if ('error' in outcome) return finishError(responder, modernError(msg, outcome.error));
  responder.finish(stamp(msg, outcome.result));
}

function needsTasksExtension(msg: JsonRpcRequest): boolean {
  // tasks/result never gets here: the ladder already answered it 404 (the extension removed it).
  if (TASK_ID_METHODS.has(msg.method)) return true;
  const n = msg.method === 'subscriptions/listen' && isObject(msg.params?.notifications) ? msg.params.notifications : undefined;
  return Array.isArray(n?.taskIds) && n.taskIds.length > 0;
}

/** 2026-07-28 puts protocol errors on the HTTP status too: 400 for envelope and capability errors, 404 for unknown methods. */
function finishError(responder: Responder, response: JsonRpcResponse): void {
  const code = (response as { error?: { code?: number } }).error?.code;
  const status =
    code === ErrorCode.MethodNotFound
      ? 404
      : code === ErrorCode.HeaderMismatch ||
          code === ErrorCode.MissingRequiredClientCapability ||
          code === ErrorCode.UnsupportedProtocolVersion
        ? 400
        : 200;
  responder.finish(response, status);
}

/** subscriptions/listen: acknowledge the honoured filter, then fan in upstream changes on the stream. */
async function listen(inb: Inbound, deps: ModernDeps, msg: JsonRpcRequest, profile: ClientProfile, ctx: CallContext): Promise<void> {
  const filter = isObject(msg.params?.notifications) ? msg.params.notifications : {};
  const wanted = new Set(
    Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [],
  );
  const subscriptionId = msg.id;
  let stream: SseStream | undefined;
  const send = (method: string, params: Result = {}) =>
    stream?.send({
      jsonrpc: '2.0',
      method,
      params: { ...params, _meta: { ...(isObject(params._meta) ? params._meta : {}), [META.subscriptionId]: subscriptionId } },
    });
  const sink: ClientSink = {
    notify(n) {
      if (n.method === 'notifications/tools/list_changed' && filter.toolsListChanged === true) send(n.method);
      else if (n.method === 'notifications/prompts/list_changed' && filter.promptsListChanged === true) send(n.method);
      else if (n.method === 'notifications/resources/list_changed' && filter.resourcesListChanged === true) send(n.method);
      else if (
        n.method === 'notifications/resources/updated' &&
        isObject(n.params) &&
        typeof n.params.uri === 'string' &&
        wanted.has(n.params.uri)
      ) {
        send(n.method, n.params);
      }
    },
    request: () => Promise.reject(new McpError(ErrorCode.MethodNotFound, 'no input requests on a listen stream')),
  };
  // Listening needs no server-to-client requests: a shared session of the plain profile serves it.
  const { sampling: _s, elicitation: _e, roots: _r, ...plain } = profile.capabilities;
  const route = deps.router.open(inb.scope, { ...profile, capabilities: plain, pooled: false }, sink);
  let init: Result;
  try {
    init = await route.initialize(ctx);
  } catch (err) {
    await route.close();
    return sendJsonRpc(inb, modernError(msg, err));
  }
  const caps = isObject(init.capabilities) ? init.capabilities : {};
  const honoured: Result = {};
  if (filter.toolsListChanged === true && 'tools' in caps) honoured.toolsListChanged = true;
  if (filter.promptsListChanged === true && 'prompts' in caps) honoured.promptsListChanged = true;
  if (filter.resourcesListChanged === true && 'resources' in caps) honoured.resourcesListChanged = true;
  const subscribed: string[] = [];
  for (const uri of wanted) {
    try {
      await route.request('resources/subscribe', { uri }, ctx);
      subscribed.push(uri);
    } catch {
      wanted.delete(uri);
    }
  }
  if (subscribed.length) honoured.resourceSubscriptions = subscribed;
  // taskIds are never acknowledged: task status is polled with tasks/get (the extension's default),
  // which the gateway routes by handle to whichever server holds the task.
  stream = new SseStream(inb.res, {}, { keepalive: true });
  stream.onClose = () => void route.close();
  send('notifications/subscriptions/acknowledged', { notifications: honoured });
}

function sendJsonRpc(inb: Inbound, response: JsonRpcResponse): void {
  const text = JSON.stringify(response);
  inb.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  inb.res.end(text);
}

/** Params as a 2025-era upstream expects them: envelope keys and MRTR fields removed. */
function forwardParams(params: Result | undefined, keepInput: boolean): Result | undefined {
  if (!params) return params;
  const { requestState: _rs, inputResponses: _ir, ...stripped } = params;
  const rest: Result = keepInput ? { ...params } : stripped;
  if (!isObject(rest._meta)) return rest;
  const meta: Result = {};
  for (const [k, v] of Object.entries(rest._meta)) if (!ENVELOPE_KEYS.has(k)) meta[k] = v;
  return { ...rest, _meta: meta };
}

function nameOf(msg: JsonRpcRequest): string {
  const field = nameField(msg.method);
  const v = field && isObject(msg.params) ? msg.params[field] : undefined;
  return typeof v === 'string' ? v : '';
}

function stamp(msg: JsonRpcRequest, result: Result): JsonRpcResponse {
  const out: Result = { ...result, resultType: typeof result.resultType === 'string' ? result.resultType : 'complete' };
  if (CACHEABLE_METHODS.has(msg.method)) {
    // The gateway's answers depend on the caller's key (grants, filters): never shareable.
    if (typeof out.ttlMs !== 'number') out.ttlMs = 0;
    out.cacheScope = 'private';
  }
  out._meta = { ...(isObject(result._meta) ? result._meta : {}), [META.serverInfo]: SERVER_INFO };
  return { jsonrpc: '2.0', id: msg.id, result: out };
}

/** Errors for modern clients: legacy-only codes translated (-32002 resource not found → -32602). */
function modernError(msg: JsonRpcRequest, err: unknown): JsonRpcResponse {
  const r = toErrorResponse(msg.id, err);
  if ('error' in r && (r.error as { code: number }).code === ErrorCode.ResourceNotFound) {
    const e = r.error as { code: number; message: string; data?: unknown };
    return errorResponse(msg.id, ErrorCode.InvalidParams, e.message, e.data);
  }
  return r;
}

function acceptsSse(accept: string | undefined): boolean {
  return accept === undefined || accept.includes('text/event-stream') || accept.includes('*/*');
}
