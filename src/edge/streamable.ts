import {
  isJsonRpcMessage,
  isObject,
  isRequest,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../mcp/jsonrpc.js';
import { envelopeVersion } from '../mcp/modern.js';
import {
  isModernVersion,
  isSupportedLegacyVersion,
  LEGACY_PROTOCOL_VERSIONS,
  negotiateVersion,
  versionAllowsBatch,
} from '../mcp/versions.js';
import { scopeKey } from '../router/route.js';
import { profileFromInitialize } from '../upstream/lease.js';
import { NEVER_ABORTED } from '../mcp/lazy-abort.js';
import { DownstreamSession } from './downstream.js';
import { refuse, toErrorResponse } from './error-catalogue.js';
import { headerValue, sendJson } from './http-util.js';
import type { Inbound, TransportDeps } from './inbound.js';
import { jsonRpcMessages, parseJsonBody } from './json-body.js';
import { handleModern } from './modern.js';
import { accepts, requireAccept, requireJsonContentType } from './negotiate.js';
import { Responder } from './responder.js';
import { targetOf } from './request-log.js';
import { SseStream } from './sse.js';
import { handleSessionless, lenientMessage } from './sessionless.js';

/** @deprecated name kept for the wiring in gateway.ts and tests: the transports' shared deps. */
export type StreamableDeps = TransportDeps;
export type { Inbound } from './inbound.js';

const JSON_OR_SSE = ['application/json', 'text/event-stream'] as const;
const SSE_ONLY = ['text/event-stream'] as const;

/** POST: one JSON-RPC message (or a batch, for 2025-03-26 sessions) per request. */
export async function handlePost(inb: Inbound, deps: TransportDeps): Promise<void> {
  const { req, res, log } = inb;
  if (!requireJsonContentType(req, res) || !requireAccept(req, res, JSON_OR_SSE)) return;
  const parsed = await parseJsonBody(req, res, deps.limits);
  if (!parsed) return;
  const body = lenientMessage(parsed.body);
  if (!Array.isArray(body) && (envelopeVersion(body) !== undefined || isModernVersion(headerValue(req.headers['mcp-protocol-version'])))) {
    if (!isJsonRpcMessage(body)) return refuse(res, 'badRequest', 'Invalid Request: expected a JSON-RPC 2.0 message');
    log.method = typeof body.method === 'string' ? body.method : 'response';
    log.target = targetOf(log.method, body.params);
    if (!isRequest(body)) {
      res.writeHead(202).end();
      return;
    }
    return handleModern(inb, deps, body);
  }
  const messages = jsonRpcMessages(res, body, deps.limits);
  if (!messages) return;
  const batch = messages.batch;
  const msgs = messages.list;
  const first = msgs[0]!;
  log.method = typeof first.method === 'string' ? first.method : 'response';
  log.target = targetOf(log.method, first.params);
  if (isRequest(first) && first.method === 'initialize') {
    if (batch) return refuse(res, 'badRequest', 'Invalid Request: initialize must not be part of a batch');
    return initialize(inb, deps, first);
  }

  if (!batch && headerValue(req.headers['mcp-session-id']) === undefined) {
    if (isRequest(first)) return handleSessionless(inb, deps, first);
    res.writeHead(202).end(); // a stateless notification or response: nothing waits for it
    return;
  }
  const session = findSession(inb, deps);
  if (!session) return;
  if (!checkVersionHeader(inb, session.protocolVersion)) return;
  if (batch && !versionAllowsBatch(session.protocolVersion)) {
    return refuse(res, 'badRequest', `Invalid Request: JSON-RPC batches are not allowed in protocol version ${session.protocolVersion}`);
  }
  const headersFor = deps.upstreamHeaders(req.headers);
  const requests: JsonRpcRequest[] = [];
  for (const m of msgs) {
    if (isRequest(m)) {
      if (m.method === 'initialize') return refuse(res, 'badRequest', 'Invalid Request: session already initialized');
      requests.push(m);
    } else session.handleClientMessage(m as JsonRpcNotification | JsonRpcResponse, headersFor);
  }
  if (requests.length === 0) {
    res.writeHead(202).end();
    return;
  }
  const responder = new Responder(
    res,
    { 'mcp-session-id': session.id },
    accepts(req, 'text/event-stream'),
    requests.length,
    batch,
    deps.limits,
    session.resumable,
  );
  for (const r of requests) session.handleRequest(r, responder, headersFor, log);
}

async function initialize(inb: Inbound, deps: TransportDeps, msg: JsonRpcRequest): Promise<void> {
  const { req, res, caller, scope } = inb;
  const params = isObject(msg.params) ? msg.params : {};
  const protocolVersion = negotiateVersion(params.protocolVersion);
  const profile = profileFromInitialize(params, protocolVersion);
  const headersFor = deps.upstreamHeaders(req.headers);
  const session = new DownstreamSession(deps.sessions.newId(), caller, scopeKey(scope), profile, headersFor, deps.sessions.ttlMs);
  session.route = deps.router.open(scope, profile, session);
  let response: JsonRpcResponse;
  try {
    const result = await session.route.initialize({ caller, signal: NEVER_ABORTED, headersFor });
    response = { jsonrpc: '2.0', id: msg.id, result: { protocolVersion, ...result } };
  } catch (err) {
    await session.close();
    return sendJson(res, 200, toErrorResponse(msg.id, err));
  }
  deps.sessions.add(session);
  sendJson(res, 200, response, { 'mcp-session-id': session.id });
}

/** The session named by Mcp-Session-Id, if this caller on this route owns it; otherwise answers. */
function findSession(inb: Inbound, deps: TransportDeps): DownstreamSession | undefined {
  const id = headerValue(inb.req.headers['mcp-session-id']);
  if (!id) {
    refuse(inb.res, 'badRequest', 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
    return undefined;
  }
  const s = deps.sessions.get(id);
  // A session bound to another key, or opened on another route, does not exist for this request.
  if (!s || s.closed || s.caller.keyId !== inb.caller.keyId || s.scopeKey !== scopeKey(inb.scope)) {
    refuse(inb.res, 'notFound', 'Session not found: it expired or was deleted; initialize a new one');
    return undefined;
  }
  inb.log.session = true;
  return s;
}

function checkVersionHeader(inb: Inbound, negotiated: string): boolean {
  const v = headerValue(inb.req.headers['mcp-protocol-version']);
  if (v === undefined || isSupportedLegacyVersion(v)) return true;
  refuse(
    inb.res,
    'badRequest',
    `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(v.slice(0, 40))} (this session negotiated ${negotiated}; supported: ${LEGACY_PROTOCOL_VERSIONS.join(', ')})`,
  );
  return false;
}

/** GET: the stream for server-initiated messages of a session. */
export function handleGet(inb: Inbound, deps: TransportDeps): void {
  const { req, res } = inb;
  if (!requireAccept(req, res, SSE_ONLY)) return;
  const session = findSession(inb, deps);
  if (!session) return;
  if (!checkVersionHeader(inb, session.protocolVersion)) return;
  const limit = deps.limits.streamBufferBytes;
  const headers = { 'mcp-session-id': session.id };
  // A client resuming one of its answers' streams (SEP-1699) gets that stream, whatever its GET stream does.
  const lastEventId = headerValue(req.headers['last-event-id']);
  if (
    lastEventId !== undefined &&
    session.resumable.resume(lastEventId, () => new SseStream(res, headers, { keepalive: true, maxBufferBytes: limit }))
  )
    return;
  if (session.getStream && !session.getStream.closed) {
    return refuse(res, 'conflict', 'Conflict: this session already has a GET stream open');
  }
  const stream = new SseStream(res, headers, {
    keepalive: true,
    maxBufferBytes: limit,
    onOverflow: (bytes) =>
      deps.log.info({ bytes, limit }, 'GET stream closed: its client left more than stream_buffer_bytes unread (it may reconnect)'),
  });
  session.attachGetStream(stream);
}

/** DELETE: the client ends its session; upstream sessions dedicated to it end too. */
export async function handleDelete(inb: Inbound, deps: TransportDeps): Promise<void> {
  const session = findSession(inb, deps);
  if (!session) return;
  await deps.sessions.delete(session.id);
  inb.res.writeHead(200).end();
}
