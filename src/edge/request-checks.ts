import { ErrorCode, isObject, McpError, type JsonRpcRequest } from '../mcp/jsonrpc.js';

/** Methods whose required fields live in params: without params they cannot mean anything. */
const NEEDS_PARAMS = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/cancel',
  'tasks/result',
]);

/**
 * The checks every client request passes, on every transport and era, before it reaches a route:
 * a method that names a property of Object.prototype (`__proto__`, `constructor`, `toString`...)
 * is no MCP method and must never be looked up anywhere; params must be an object (MCP never uses
 * positional params) and `_meta` an object. Without these a malformed call is forwarded and the
 * client waits out the whole upstream timeout. Returns the error to answer, or undefined.
 */
export function requestShapeError(msg: JsonRpcRequest): McpError | undefined {
  if (msg.method in Object.prototype) return new McpError(ErrorCode.MethodNotFound, `Method not found: ${JSON.stringify(msg.method)}`);
  const params = msg.params as unknown;
  if (params === undefined) {
    return NEEDS_PARAMS.has(msg.method)
      ? new McpError(ErrorCode.InvalidParams, `Invalid params: ${msg.method} needs params (an object)`)
      : undefined;
  }
  if (!isObject(params)) {
    return new McpError(
      ErrorCode.InvalidParams,
      `Invalid params: params must be an object, not ${Array.isArray(params) ? 'an array' : typeof params}`,
    );
  }
  if ('_meta' in params && !isObject(params._meta)) {
    return new McpError(ErrorCode.InvalidParams, 'Invalid params: params._meta must be an object');
  }
  return undefined;
}

/** True when `root` nests objects or arrays deeper than `limit` levels (the root is level 1). Iterative: no stack to overflow. */
export function deeperThan(root: unknown, limit: number): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop();
    const d = depths.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        depths.push(d + 1);
      }
    }
  }
  return false;
}
