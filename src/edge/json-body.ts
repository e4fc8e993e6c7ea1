import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonRpcMessage, isObject, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { refuse } from './error-catalogue.js';
import { BodyTooLarge, readBody } from './http-util.js';
import type { InputLimits } from './input-limits.js';
import { deeperThan } from './request-checks.js';

/**
 * The checks every MCP POST body goes through, on every transport. Each answers the client itself
 * when the body is unusable, so callers just stop on a falsy result.
 */

/** The parsed body, or undefined after a 413 (too large), 400 (not JSON) or 400 (nested too deep). */
export async function parseJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: InputLimits,
): Promise<{ body: unknown } | undefined> {
  let text: string;
  try {
    text = await readBody(req, limits.maxBodyBytes);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    res.setHeader('connection', 'close');
    refuse(res, 'tooLarge', `Payload Too Large: the body exceeds ${limits.maxBodyBytes} bytes (max_body_bytes)`);
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    refuse(res, 'parseError', 'Parse error: the body is not valid JSON');
    return undefined;
  }
  // Checked once here, so nothing behind the edge (canonical keys, name rewriting) ever walks a
  // structure deep enough to overflow its stack.
  if (deeperThan(body, limits.maxJsonDepth)) {
    refuseTooDeep(res, body, limits.maxJsonDepth);
    return undefined;
  }
  return { body };
}

/** -32602 naming the request when the depth is in its params (its envelope is fine), -32600 otherwise. */
function refuseTooDeep(res: ServerResponse, body: unknown, limit: number): void {
  const list = Array.isArray(body) ? body : [body];
  const offset = Array.isArray(body) ? 1 : 0;
  const culprit = list.find((m) => deeperThan(m, limit - offset));
  const inParams = isObject(culprit) && typeof culprit.method === 'string' && !deeperThan({ ...culprit, params: null }, limit - offset);
  const message = `JSON nested deeper than ${limit} levels (max_json_depth)`;
  if (inParams) {
    const id = typeof culprit.id === 'string' || typeof culprit.id === 'number' ? culprit.id : null;
    refuse(res, 'invalidParams', `Invalid params: ${message}`, { id });
  } else refuse(res, 'badRequest', `Invalid Request: ${message}`);
}

/** One JSON-RPC message or a non-empty batch of at most max_batch_size, or undefined after a 400. */
export function jsonRpcMessages(
  res: ServerResponse,
  body: unknown,
  limits: InputLimits,
): { list: JsonRpcMessage[]; batch: boolean } | undefined {
  const batch = Array.isArray(body);
  const list = (batch ? body : [body]) as unknown[];
  if (list.length > limits.maxBatchSize) {
    refuse(
      res,
      'badRequest',
      `Invalid Request: a batch of ${list.length} messages exceeds the limit of ${limits.maxBatchSize} (max_batch_size); send fewer per request`,
    );
    return undefined;
  }
  if (list.length > 0 && list.every(isJsonRpcMessage)) return { list: list as JsonRpcMessage[], batch };
  refuse(res, 'badRequest', 'Invalid Request: expected a JSON-RPC 2.0 message');
  return undefined;
}
