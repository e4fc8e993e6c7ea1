import type { IncomingMessage } from 'node:http';
import {
  ErrorCode,
  errorResponse,
  isObject,
  isRequest,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../mcp/jsonrpc.js';
import { DEFAULT_NEGOTIATED_VERSION, negotiateVersion, versionAllowsBatch } from '../mcp/versions.js';
import { scopeKey, type RouteScope } from '../router/route.js';
import { profileFromInitialize, UNKNOWN_CLIENT } from '../upstream/lease.js';
import { NEVER_ABORTED } from '../mcp/lazy-abort.js';
import { DownstreamSession } from './downstream.js';
import { refuse, toErrorResponse } from './error-catalogue.js';
import type { HeadersFor } from './call-context.js';
import type { Inbound, TransportDeps } from './inbound.js';
import { jsonRpcMessages, parseJsonBody } from './json-body.js';
import { requireAccept, requireJsonContentType } from './negotiate.js';
import { requestLineFields, round3, targetOf, type RequestLog } from './request-log.js';
import { StreamReplies } from './responder.js';
import { SseStream } from './sse.js';

/**
 * The 2024-11-05 HTTP+SSE transport: a GET opens the session's only stream, the client POSTs its
 * messages to the endpoint announced on it, and every server message (responses included) comes
 * back on that stream. The session exists before `initialize`, so its profile is filled in then.
 */
interface LegacyState {
  stream: SseStream;
  /** Settles once `initialize` has been answered: true when the session may be used. */
  ready?: Promise<boolean>;
  initialized: boolean;
}

/** What this transport uses of the edge. */
type LegacyDeps = Pick<TransportDeps, 'router' | 'sessions' | 'limits' | 'upstreamHeaders' | 'log'>;

const states = new WeakMap<DownstreamSession, LegacyState>();

/**
 * Legacy sessions are bound to their transport as well as to the route, so a Streamable HTTP
 * request naming one (or the reverse) finds nothing.
 */
function legacyScopeKey(scope: RouteScope): string {
  return 'sse:' + scopeKey(scope);
}

/** GET `.../sse`: open the stream, create the session and announce where to POST. */
export function handleSseStream(inb: Inbound, deps: LegacyDeps, path: string): void {
  const { req, res, caller, scope } = inb;
  if (!requireAccept(req, res, ['text/event-stream'])) return;
  const profile = { protocolVersion: DEFAULT_NEGOTIATED_VERSION, capabilities: {}, clientInfo: UNKNOWN_CLIENT };
  const session = new DownstreamSession(deps.sessions.newId(), caller, legacyScopeKey(scope), profile, deps.upstreamHeaders(req.headers));
  // Every answer rides this stream: one the client stops reading is closed, which ends the session.
  const stream = new SseStream(res, {}, { keepalive: true, maxBufferBytes: deps.limits.streamBufferBytes });
  states.set(session, { stream, initialized: false });
  deps.sessions.add(session);
  res.on('close', () => void deps.sessions.delete(session.id).catch(() => {}));
  inb.log.session = true;
  stream.send(endpointFor(path, req, session.id), 'endpoint');
  session.attachGetStream(stream);
}

/** The POST endpoint: same path plus `/messages`, keeping the GET's query so scope selection matches. */
function endpointFor(path: string, req: IncomingMessage, sessionId: string): string {
  const base = path.endsWith('/') ? path.slice(0, -1) : path;
  const q = req.url!.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : req.url!.slice(q + 1));
  query.set('sessionId', sessionId);
  return `${base}/messages?${query.toString()}`;
}

/** POST `.../sse/messages?sessionId=…`: acknowledge with 202, answer on the session's stream. */
export async function handleSseMessage(inb: Inbound, deps: LegacyDeps, query: URLSearchParams | undefined): Promise<void> {
  const { req, res, log } = inb;
  const messages = await readMessages(inb, deps);
  if (!messages) return;
  const session = findSession(inb, deps, query?.get('sessionId'));
  if (!session) return;
  const state = states.get(session)!;
  if (messages.batch && !versionAllowsBatch(session.protocolVersion)) {
    return refuse(res, 'badRequest', `Invalid Request: JSON-RPC batches are not allowed in protocol version ${session.protocolVersion}`);
  }
  const first = messages.list[0]!;
  log.method = typeof first.method === 'string' ? first.method : 'response';
  log.target = targetOf(log.method, first.params);
  res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');

  const headersFor = deps.upstreamHeaders(req.headers);
  for (const m of messages.list) {
    if (isRequest(m) && m.method === 'initialize') {
      initialize(inb, deps, session, state, m, headersFor);
      continue;
    }
    if (!state.initialized && !(await state.ready)) {
      if (isRequest(m)) state.stream.send(notInitialized(m));
      continue;
    }
    if (isRequest(m)) answerOnStream(inb, deps, session, state, m, headersFor);
    else session.handleClientMessage(m as JsonRpcNotification | JsonRpcResponse, headersFor);
  }
}

/**
 * One request whose answer goes on the SSE stream, long after its POST got its 202: the POST's log line
 * cannot say how it ended, so a line of its own ("answered") does, when the answer is sent: the method
 * and target, the upstream time against the total, and the reason when it failed.
 */
function answerOnStream(
  inb: Inbound,
  deps: LegacyDeps,
  session: DownstreamSession,
  state: LegacyState,
  m: JsonRpcRequest,
  headersFor: HeadersFor,
) {
  const started = performance.now();
  const line: RequestLog = {
    route: inb.log.route,
    server: inb.log.server,
    key: inb.log.key,
    method: m.method,
    target: targetOf(m.method, m.params),
  };
  const replies = new StreamReplies(state.stream, (response) => {
    const failed = 'error' in response;
    deps.log.info(
      {
        ...requestLineFields(line),
        http: 'SSE',
        outcome: failed ? 'error' : 'ok',
        ...(failed && !line.reason ? { reason: 'rpc_error' } : {}),
        ms: round3(performance.now() - started),
      },
      'answered',
    );
  });
  session.handleRequest(m, replies, headersFor, line);
}

function notInitialized(m: JsonRpcRequest): JsonRpcResponse {
  return m.method === 'ping'
    ? { jsonrpc: '2.0', id: m.id, result: {} }
    : errorResponse(m.id, ErrorCode.InvalidRequest, 'Invalid Request: send initialize first');
}

/** Validates and parses the body; answers the client itself (and returns undefined) when it is unusable. */
async function readMessages(inb: Inbound, deps: LegacyDeps): Promise<{ list: JsonRpcMessage[]; batch: boolean } | undefined> {
  if (!requireJsonContentType(inb.req, inb.res)) return undefined;
  const parsed = await parseJsonBody(inb.req, inb.res, deps.limits);
  return parsed && jsonRpcMessages(inb.res, parsed.body, deps.limits);
}

/** The session named by `sessionId`, if this caller opened it on this route; otherwise answers. */
function findSession(inb: Inbound, deps: LegacyDeps, id: string | null | undefined): DownstreamSession | undefined {
  if (!id) {
    refuse(inb.res, 'badRequest', 'Bad Request: the sessionId query parameter is required (use the endpoint announced on the SSE stream)');
    return undefined;
  }
  const s = deps.sessions.get(id);
  // Another key's session, or one opened on another route or transport, does not exist for this request.
  if (!s || s.closed || !states.has(s) || s.caller.keyId !== inb.caller.keyId || s.scopeKey !== legacyScopeKey(inb.scope)) {
    refuse(inb.res, 'notFound', 'Session not found: it expired or its SSE stream closed; open a new one with GET');
    return undefined;
  }
  inb.log.session = true;
  return s;
}

/** Negotiates the version, takes the client's profile and opens the route; the answer goes on the stream. */
function initialize(
  inb: Inbound,
  deps: LegacyDeps,
  session: DownstreamSession,
  state: LegacyState,
  msg: JsonRpcRequest,
  headersFor: HeadersFor,
): void {
  if (state.ready) {
    state.stream.send(errorResponse(msg.id, ErrorCode.InvalidRequest, 'Invalid Request: session already initialized'));
    return;
  }
  const params = isObject(msg.params) ? msg.params : {};
  const protocolVersion = negotiateVersion(params.protocolVersion);
  Object.assign(session.profile, profileFromInitialize(params, protocolVersion));
  session.route = deps.router.open(inb.scope, session.profile, session);
  state.ready = session.route.initialize({ caller: inb.caller, signal: NEVER_ABORTED, headersFor }).then(
    (result) => {
      state.initialized = true;
      state.stream.send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion, ...result } });
      return true;
    },
    (err: unknown) => {
      // A failed initialize leaves nothing worth keeping: answer, then end the stream and the session.
      state.stream.send(toErrorResponse(msg.id, err));
      void deps.sessions.delete(session.id).catch(() => {});
      return false;
    },
  );
}
