import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../caller/keys.js';
import {
  ErrorCode,
  isJsonRpcMessage,
  isObject,
  isRequest,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../mcp/jsonrpc.js';
import {
  isModernVersion,
  isSupportedLegacyVersion,
  LEGACY_PROTOCOL_VERSIONS,
  negotiateVersion,
  versionAllowsBatch,
} from '../mcp/versions.js';
import type { RouteScope, Router } from '../router/route.js';
import { envelopeVersion } from '../mcp/modern.js';
import { profileFromInitialize } from '../upstream/lease.js';
import { DownstreamSession, toErrorResponse } from './downstream.js';
import { handleModern } from './modern.js';
import type { ExchangeStore } from './mrtr.js';
import { headerValue, sendJson, sendRpcError } from './http-util.js';
import { jsonContentType, jsonRpcMessages, parseJsonBody } from './json-body.js';
import type { RequestLog } from './request-log.js';
import { Responder } from './responder.js';
import type { SessionStore } from './session-store.js';
import { SseStream } from './sse.js';
import { handleSessionless, lenientMessage } from './sessionless.js';

export interface StreamableDeps {
  exchanges: ExchangeStore;
  router: Router;
  sessions: SessionStore;
  maxBodyBytes: number;
  /** Per-request upstream headers derived from the client's HTTP headers. */
  upstreamHeaders(incoming: IncomingMessage['headers']): (server: string) => Record<string, string> | undefined;
}

export interface Inbound {
  req: IncomingMessage;
  res: ServerResponse;
  caller: Caller;
  scope: RouteScope;
  log: RequestLog;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept;
  return accept === undefined || accept.includes(type) || accept.includes('*/*');
}

function scopeKey(scope: RouteScope): string {
  return (scope.aggregate ? 'agg:' : 'one:') + scope.servers.join(',');
}

/** POST: one JSON-RPC message (or a batch, for 2025-03-26 sessions) per request. */
export async function handlePost(inb: Inbound, deps: StreamableDeps): Promise<void> {
  const { req, res, log } = inb;
  if (!jsonContentType(req, res)) return;
  if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
    return sendRpcError(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include application/json and text/event-stream');
  }
  const parsed = await parseJsonBody(req, res, deps.maxBodyBytes);
  if (!parsed) return;
  const body = lenientMessage(parsed.body);
  if (!Array.isArray(body) && (envelopeVersion(body) !== undefined || isModernVersion(headerValue(req.headers['mcp-protocol-version'])))) {
    if (!isJsonRpcMessage(body))
      return sendRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC 2.0 message');
    log.method = typeof body.method === 'string' ? body.method : 'response';
    if (!isRequest(body)) {
      res.writeHead(202).end();
      return;
    }
    return handleModern(inb, deps, body);
  }
  const messages = jsonRpcMessages(res, body);
  if (!messages) return;
  const batch = messages.batch;
  const msgs = messages.list;
  const first = msgs[0]!;
  log.method = typeof first.method === 'string' ? first.method : 'response';
  if (isRequest(first) && first.method === 'initialize') {
    if (batch) return sendRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not be part of a batch');
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
    return sendRpcError(
      res,
      400,
      ErrorCode.InvalidRequest,
      `Invalid Request: JSON-RPC batches are not allowed in protocol version ${session.protocolVersion}`,
    );
  }
  const headersFor = deps.upstreamHeaders(req.headers);
  const requests: JsonRpcRequest[] = [];
  for (const m of msgs) {
    if (isRequest(m)) {
      if (m.method === 'initialize')
        return sendRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: session already initialized');
      requests.push(m);
    } else session.handleClientMessage(m as JsonRpcNotification | JsonRpcResponse, headersFor);
  }
  if (requests.length === 0) {
    res.writeHead(202).end();
    return;
  }
  const responder = new Responder(res, { 'mcp-session-id': session.id }, accepts(req, 'text/event-stream'), requests.length, batch);
  for (const r of requests) session.handleRequest(r, responder, headersFor);
}

async function initialize(inb: Inbound, deps: StreamableDeps, msg: JsonRpcRequest): Promise<void> {
  const { req, res, caller, scope } = inb;
  const params = isObject(msg.params) ? msg.params : {};
  const protocolVersion = negotiateVersion(params.protocolVersion);
  const profile = profileFromInitialize(params, protocolVersion);
  const headersFor = deps.upstreamHeaders(req.headers);
  const session = new DownstreamSession(deps.sessions.newId(), caller, scopeKey(scope), profile, headersFor);
  session.route = deps.router.open(scope, profile, session);
  let response: JsonRpcResponse;
  try {
    const result = await session.route.initialize({ caller, signal: new AbortController().signal, headersFor });
    response = { jsonrpc: '2.0', id: msg.id, result: { protocolVersion, ...result } };
  } catch (err) {
    await session.close();
    return sendJson(res, 200, toErrorResponse(msg.id, err));
  }
  deps.sessions.add(session);
  sendJson(res, 200, response, { 'mcp-session-id': session.id });
}

/** The session named by Mcp-Session-Id, if this caller on this route owns it; otherwise answers. */
function findSession(inb: Inbound, deps: StreamableDeps): DownstreamSession | undefined {
  const id = headerValue(inb.req.headers['mcp-session-id']);
  if (!id) {
    sendRpcError(inb.res, 400, ErrorCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
    return undefined;
  }
  const s = deps.sessions.get(id);
  // A session bound to another key, or opened on another route, does not exist for this request.
  if (!s || s.closed || s.caller.keyId !== inb.caller.keyId || s.scopeKey !== scopeKey(inb.scope)) {
    sendRpcError(inb.res, 404, ErrorCode.InvalidRequest, 'Session not found: it expired or was deleted; initialize a new one');
    return undefined;
  }
  inb.log.session = true;
  return s;
}

function checkVersionHeader(inb: Inbound, negotiated: string): boolean {
  const v = headerValue(inb.req.headers['mcp-protocol-version']);
  if (v === undefined || isSupportedLegacyVersion(v)) return true;
  sendRpcError(
    inb.res,
    400,
    ErrorCode.InvalidRequest,
    `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(v.slice(0, 40))} (this session negotiated ${negotiated}; supported: ${LEGACY_PROTOCOL_VERSIONS.join(', ')})`,
  );
  return false;
}

/** GET: the stream for server-initiated messages of a session. */
export function handleGet(inb: Inbound, deps: StreamableDeps): void {
  const { req, res } = inb;
  if (!accepts(req, 'text/event-stream')) {
    return sendRpcError(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include text/event-stream');
  }
  const session = findSession(inb, deps);
  if (!session) return;
  if (!checkVersionHeader(inb, session.protocolVersion)) return;
  if (session.getStream && !session.getStream.closed) {
    return sendRpcError(res, 409, ErrorCode.InvalidRequest, 'Conflict: this session already has a GET stream open');
  }
  session.attachGetStream(new SseStream(res, { 'mcp-session-id': session.id }, { keepalive: true }));
}

/** DELETE: the client ends its session; upstream sessions dedicated to it end too. */
export async function handleDelete(inb: Inbound, deps: StreamableDeps): Promise<void> {
  const session = findSession(inb, deps);
  if (!session) return;
  await deps.sessions.delete(session.id);
  inb.res.writeHead(200).end();
}
