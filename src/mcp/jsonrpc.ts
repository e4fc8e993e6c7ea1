/**
 * JSON-RPC 2.0 message shapes as Toolgate relays them.
 *
 * Messages are kept as plain parsed JSON: the gateway rewrites only what routing needs
 * (ids, names, URIs, cursors, progress tokens) and passes every other field through untouched,
 * so a field added to MCP next year survives the trip.
 */
export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
  [extra: string]: unknown;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard and MCP error codes. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** SDK / spec: connection closed or request timed out. */
  ConnectionClosed: -32000,
  RequestTimeout: -32001,
  /** Legacy "resource not found" (2025 era); 2026-07-28 clients expect -32602. */
  ResourceNotFound: -32002,
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
  UrlElicitationRequired: -32042,
  /**
   * Toolgate's own codes (JSON-RPC's implementation-defined range), so a client can tell the upstream
   * failures apart instead of seeing -32000 for all of them. See edge/error-catalogue.ts.
   */
  /** The upstream refused the gateway's credentials (HTTP 401/403): fix the server's auth settings. */
  UpstreamUnauthorized: -32030,
  /** The upstream answered with something that is not MCP (wrong URL or transport). */
  UpstreamProtocol: -32031,
  /** The upstream answered with an HTTP error status. */
  UpstreamHttpStatus: -32032,
  /** A rate or concurrency limit refused the request. */
  LimitExceeded: -32033,
  /** A spend budget is used up. */
  BudgetExceeded: -32034,
} as const;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isRequest(m: unknown): m is JsonRpcRequest {
  return isObject(m) && typeof m.method === 'string' && 'id' in m && (typeof m.id === 'string' || typeof m.id === 'number');
}

export function isNotification(m: unknown): m is JsonRpcNotification {
  return isObject(m) && typeof m.method === 'string' && !('id' in m);
}

export function isResponse(m: unknown): m is JsonRpcResponse {
  return isObject(m) && typeof m.method !== 'string' && 'id' in m && ('result' in m || 'error' in m);
}

/** True when the value is a structurally valid single JSON-RPC 2.0 message. */
export function isJsonRpcMessage(m: unknown): m is JsonRpcMessage {
  if (!isObject(m) || m.jsonrpc !== '2.0') return false;
  if (typeof m.method === 'string') {
    if ('params' in m && m.params !== undefined && !isObject(m.params) && !Array.isArray(m.params)) return false;
    return !('id' in m) || typeof m.id === 'string' || typeof m.id === 'number';
  }
  return 'id' in m && 'result' in m !== 'error' in m;
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcFailure {
  const error: JsonRpcErrorObject = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id, error };
}

export function resultResponse(id: JsonRpcId, result: Record<string, unknown>): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

/** An error that carries a JSON-RPC code, so any layer can fail a request precisely. */
export class McpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'McpError';
  }
  /** The error object of a JSON-RPC response as an McpError (a malformed one becomes an internal error). */
  static fromWire(e: unknown, fallbackMessage = 'error without a message'): McpError {
    const o = (isObject(e) ? e : {}) as { code?: unknown; message?: unknown; data?: unknown };
    return new McpError(
      typeof o.code === 'number' ? o.code : ErrorCode.InternalError,
      typeof o.message === 'string' ? o.message : fallbackMessage,
      o.data,
    );
  }

  toJson(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}
