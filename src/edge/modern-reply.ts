import type { ServerResponse } from 'node:http';
import { isObject, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { CACHEABLE_METHODS, META, nameField } from '../mcp/modern.js';
import { TOOLGATE_VERSION } from '../version.js';
import { errorReason, modernStatus, toErrorResponse } from './error-catalogue.js';
import type { CallContext } from '../router/route.js';
import type { ClientProfile } from '../upstream/lease.js';
import type { Inbound, TransportDeps } from './inbound.js';
import type { RequestLog } from './request-log.js';
import type { ReplyChannel } from './responder.js';

type Result = Record<string, unknown>;

/** How 2026-07-28 answers look: resultType, cache hints, serverInfo, errors with their HTTP status. */

export const SERVER_INFO = { name: 'toolgate', version: TOOLGATE_VERSION };
// logLevel stays: a 2026 upstream reads it per request, a 2025 one ignores an unknown _meta key.
const ENVELOPE_KEYS = new Set<string>([META.protocolVersion, META.clientCapabilities, META.clientInfo]);

/** A reply channel that can also carry the HTTP status of a plain JSON answer. */
export interface ModernReply extends ReplyChannel {
  finish(response: JsonRpcResponse, status?: number): void;
}

/** One validated 2026-07-28 request, as discover, listen and the bridge receive it. */
export interface ModernRequest {
  inb: Inbound;
  deps: TransportDeps;
  msg: JsonRpcRequest;
  /** The client's per-request envelope as a profile: capabilities and clientInfo. */
  profile: ClientProfile;
  ctx: CallContext;
  reply: ModernReply;
}

/** Any failure, answered the 2026-07-28 way (its code translated, its status on the HTTP response). */
export function finishError(reply: ModernReply, msg: JsonRpcRequest, err: unknown, log?: RequestLog): void {
  if (log) log.reason = errorReason(err);
  const response = toErrorResponse(msg.id, err, 'modern');
  reply.finish(response, modernStatus(response));
}

export function stamp(msg: JsonRpcRequest, result: Result): JsonRpcResponse {
  const out: Result = { ...result, resultType: typeof result.resultType === 'string' ? result.resultType : 'complete' };
  if (CACHEABLE_METHODS.has(msg.method)) {
    // The gateway's answers depend on the caller's key (grants, filters): never shareable.
    if (typeof out.ttlMs !== 'number') out.ttlMs = 0;
    out.cacheScope = 'private';
  }
  out._meta = { ...(isObject(result._meta) ? result._meta : {}), [META.serverInfo]: SERVER_INFO };
  return { jsonrpc: '2.0', id: msg.id, result: out };
}

/** Params as a 2025-era upstream expects them: envelope keys and MRTR fields removed. */
export function forwardParams(params: Result | undefined, keepInput: boolean): Result | undefined {
  if (!params) return params;
  const { requestState: _rs, inputResponses: _ir, ...stripped } = params;
  const rest: Result = keepInput ? { ...params } : stripped;
  if (!isObject(rest._meta)) return rest;
  const meta: Result = {};
  for (const [k, v] of Object.entries(rest._meta)) if (!ENVELOPE_KEYS.has(k)) meta[k] = v;
  return { ...rest, _meta: meta };
}

export function nameOf(msg: JsonRpcRequest): string {
  const field = nameField(msg.method);
  const v = field && isObject(msg.params) ? msg.params[field] : undefined;
  return typeof v === 'string' ? v : '';
}

export function sendJsonRpc(res: ServerResponse, response: JsonRpcResponse, status = 200): void {
  const text = JSON.stringify(response);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
