import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse, type JsonRpcId } from '../mcp/jsonrpc.js';

export class BodyTooLarge extends Error {}

/** Read the whole body, refusing more than `limit` bytes (and saying so before reading it all). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An HTTP-level refusal carrying a JSON-RPC error body, as MCP clients expect. */
export function sendRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  opts: { id?: JsonRpcId | null; headers?: Record<string, string>; data?: unknown } = {},
): void {
  sendJson(res, status, errorResponse(opts.id ?? null, code, message, opts.data), opts.headers);
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
