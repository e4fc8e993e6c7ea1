import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { JsonRpcRequest } from '../mcp/jsonrpc.js';
import { refuse } from './error-catalogue.js';

/** Marks a forwarded retry: a replica never forwards it again (no loops between misconfigured peers). */
export const FORWARDED_HEADER = 'x-toolgate-forwarded';
/** What the holding replica needs to authorise and route the retry exactly as the client sent it. */
const KEPT = /^(authorization|x-litellm-api-key|accept|content-type|mcp-.*|x-mcp-.*|x-litellm-.*)$/i;

/**
 * A bridged call (2026 client, 2025 upstream) lives in the replica that started it. A retry whose
 * signed requestState names another replica is relayed there unchanged, and its answer streamed
 * back; the address comes from state only replicas can sign, so a client cannot aim it elsewhere.
 */
export async function forwardRetry(req: IncomingMessage, res: ServerResponse, msg: JsonRpcRequest, holder: string): Promise<void> {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: '1' };
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && KEPT.test(k)) headers[k] = v;
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let answer: Response;
  try {
    answer = await fetch(new URL(req.url ?? '/mcp', holder), { method: 'POST', headers, body: JSON.stringify(msg), signal: abort.signal });
  } catch {
    return refuse(res, 'badGateway', 'the replica holding this call did not answer', { id: msg.id });
  }
  const out: Record<string, string> = {};
  for (const k of ['content-type', 'cache-control', 'x-accel-buffering']) {
    const v = answer.headers.get(k);
    if (v) out[k] = v;
  }
  res.writeHead(answer.status, out);
  if (!answer.body) return void res.end();
  Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream)
    .on('error', () => res.destroy())
    .pipe(res);
}
