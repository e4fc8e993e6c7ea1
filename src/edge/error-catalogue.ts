import type { ServerResponse } from 'node:http';
import { BudgetExceeded, LimitExceeded, PolicyDenied } from '../mcp/errors.js';
import { ErrorCode, McpError, errorResponse, type JsonRpcFailure, type JsonRpcId, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { UpstreamError, type UpstreamFailure } from '../upstream/transport.js';
import { sendJson } from './http-util.js';
import { noteRefusal } from './request-log.js';

/**
 * The error catalogue: the one place where a failure becomes an HTTP status and a JSON-RPC code.
 *
 * Internal errors (thrown behind the edge):
 *   McpError (and PolicyDenied)  its own code (a denial stays -32602)      HTTP 200 (2026: see MODERN_STATUS)
 *   UpstreamError 'timeout'      -32001 request timed out                   HTTP 200
 *   'unreachable' / 'closed' /   -32000 connection closed: retry, the upstream may be back
 *   'session-lost'
 *   'unauthorized'               -32030 the upstream refused the gateway's credentials: fix auth_type / keys
 *   'protocol'                   -32031 the upstream did not speak MCP: check url and transport
 *   'http-status'                -32032 the upstream answered an HTTP error status (data.status carries it)
 *   LimitExceeded                -32033 retry later (data.retryAfterSeconds)  2026: HTTP 429
 *   BudgetExceeded               -32034 raise or reset the budget            2026: HTTP 402
 *   anything else                -32603 internal error (the text stays in the log, never on the wire)
 *
 * Edge refusals (the request never reached a route) are the REFUSALS below.
 */

const UPSTREAM_CODES: Readonly<Record<UpstreamFailure, number>> = {
  timeout: ErrorCode.RequestTimeout,
  unreachable: ErrorCode.ConnectionClosed,
  closed: ErrorCode.ConnectionClosed,
  'session-lost': ErrorCode.ConnectionClosed,
  unauthorized: ErrorCode.UpstreamUnauthorized,
  protocol: ErrorCode.UpstreamProtocol,
  'http-status': ErrorCode.UpstreamHttpStatus,
};

/** 2026-07-28 puts protocol errors on the HTTP status too; every other error rides a 200. */
const MODERN_STATUS: ReadonlyMap<number, number> = new Map([
  [ErrorCode.MethodNotFound, 404],
  [ErrorCode.HeaderMismatch, 400],
  [ErrorCode.MissingRequiredClientCapability, 400],
  [ErrorCode.UnsupportedProtocolVersion, 400],
  [ErrorCode.LimitExceeded, 429],
  [ErrorCode.BudgetExceeded, 402],
]);

export type Era = 'legacy' | 'modern';

/** Any failure as a JSON-RPC error response that names the server and the cause. */
export function toErrorResponse(id: JsonRpcId | null, err: unknown, era: Era = 'legacy'): JsonRpcFailure {
  if (err instanceof LimitExceeded) {
    return errorResponse(
      id,
      err.code,
      err.message,
      err.data ?? (err.retryAfterSeconds ? { retryAfterSeconds: err.retryAfterSeconds } : undefined),
    );
  }
  if (err instanceof BudgetExceeded || err instanceof McpError) {
    // 2026-07-28 has no "resource not found" code of its own: -32602 (SEP-2164).
    const code = era === 'modern' && err.code === ErrorCode.ResourceNotFound ? ErrorCode.InvalidParams : err.code;
    return errorResponse(id, code, err.message, err.data);
  }
  if (err instanceof UpstreamError) {
    const data = err.failure === 'http-status' && err.status !== undefined ? { status: err.status } : undefined;
    return errorResponse(id, UPSTREAM_CODES[err.failure], err.message, data);
  }
  return errorResponse(id, ErrorCode.InternalError, 'internal error');
}

/** The request log's word for why a request failed, from the same error toErrorResponse answers. */
export function errorReason(err: unknown): string {
  if (err instanceof PolicyDenied) return 'denied';
  if (err instanceof LimitExceeded) return 'limited';
  if (err instanceof BudgetExceeded) return 'over_budget';
  if (err instanceof McpError) {
    return err.code === ErrorCode.MethodNotFound
      ? 'method_not_found'
      : err.code === ErrorCode.InvalidParams
        ? 'invalid_params'
        : 'rpc_error';
  }
  if (err instanceof UpstreamError) return `upstream_${err.failure}`;
  return 'internal';
}

/**
 * A limited call answered on a plain JSON response (either era, sessions, stateless and curl alike):
 * HTTP 429 with Retry-After from the error's data. An answer on an SSE stream (the legacy HTTP+SSE
 * transport, or a POST already streaming progress) cannot change its status: the JSON-RPC error
 * (-32033, data.retryAfterSeconds) is all it carries.
 */
export function limitedReply(response: JsonRpcResponse): { status: number; headers: Record<string, string> } | undefined {
  const error = (response as Partial<JsonRpcFailure>).error;
  if (error?.code !== ErrorCode.LimitExceeded) return undefined;
  const data = error.data as { retryAfterSeconds?: unknown } | undefined;
  const seconds = typeof data?.retryAfterSeconds === 'number' ? data.retryAfterSeconds : undefined;
  return { status: 429, headers: seconds === undefined ? {} : { 'retry-after': String(seconds) } };
}

/** The HTTP status a 2026-07-28 answer carrying this error gets. */
export function modernStatus(response: JsonRpcFailure): number {
  return MODERN_STATUS.get(response.error.code) ?? 200;
}

/** Refusals of the edge itself: each kind's HTTP status and JSON-RPC code, in one table. */
const REFUSALS = {
  badRequest: { status: 400, code: ErrorCode.InvalidRequest },
  parseError: { status: 400, code: ErrorCode.ParseError },
  invalidParams: { status: 400, code: ErrorCode.InvalidParams },
  unauthorized: { status: 401, code: ErrorCode.InvalidRequest },
  forbidden: { status: 403, code: ErrorCode.InvalidRequest },
  notFound: { status: 404, code: ErrorCode.InvalidRequest },
  methodNotAllowed: { status: 405, code: ErrorCode.InvalidRequest },
  notAcceptable: { status: 406, code: ErrorCode.InvalidRequest },
  conflict: { status: 409, code: ErrorCode.InvalidRequest },
  tooLarge: { status: 413, code: ErrorCode.InvalidRequest },
  unsupportedMediaType: { status: 415, code: ErrorCode.InvalidRequest },
  internal: { status: 500, code: ErrorCode.InternalError },
  badGateway: { status: 502, code: ErrorCode.InternalError },
} as const;

export type RefusalKind = keyof typeof REFUSALS;

export interface RefusalOptions {
  id?: JsonRpcId | null;
  headers?: Record<string, string>;
  data?: unknown;
}

/** An HTTP-level refusal carrying a JSON-RPC error body, as MCP clients expect. */
export function refuse(res: ServerResponse, kind: RefusalKind, message: string, opts: RefusalOptions = {}): void {
  const r = REFUSALS[kind];
  noteRefusal(res, kind);
  sendRpcError(res, r.status, r.code, message, opts);
}

/** A refusal whose status and code a protocol rule fixes (the 2026-07-28 header ladder). */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, opts: RefusalOptions = {}): void {
  sendJson(res, status, errorResponse(opts.id ?? null, code, message, opts.data), opts.headers);
}
