import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isJsonRpcMessage, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { BodyTooLarge, readBody, sendRpcError } from './http-util.js';

/**
 * The checks every MCP POST body goes through, on every transport. Each answers the client itself
 * when the body is unusable, so callers just stop on a falsy result.
 */
export function jsonContentType(req: IncomingMessage, res: ServerResponse): boolean {
  const ctype = req.headers['content-type'] ?? '';
  if (ctype.toLowerCase().startsWith('application/json')) return true;
  sendRpcError(
    res,
    415,
    ErrorCode.InvalidRequest,
    `Unsupported Media Type: Content-Type must be application/json (got ${JSON.stringify(ctype.slice(0, 60))})`,
  );
  return false;
}

/** The parsed body, or undefined after a 413 (too large) or 400 (not JSON). */
export async function parseJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<{ body: unknown } | undefined> {
  let text: string;
  try {
    text = await readBody(req, maxBytes);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    res.setHeader('connection', 'close');
    sendRpcError(res, 413, ErrorCode.InvalidRequest, `Payload Too Large: the body exceeds ${maxBytes} bytes`);
    return undefined;
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    sendRpcError(res, 400, ErrorCode.ParseError, 'Parse error: the body is not valid JSON');
    return undefined;
  }
}

/** One JSON-RPC message or a non-empty batch of them, or undefined after a 400. */
export function jsonRpcMessages(res: ServerResponse, body: unknown): { list: JsonRpcMessage[]; batch: boolean } | undefined {
  const batch = Array.isArray(body);
  const list = (batch ? body : [body]) as unknown[];
  if (list.length > 0 && list.every(isJsonRpcMessage)) return { list: list as JsonRpcMessage[], batch };
  sendRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC 2.0 message');
  return undefined;
}
