/** The few MCP wire details the load generator and the harness need, spoken over undici without an SDK. */
import type { Dispatcher } from 'undici';

export const PROTOCOL_VERSION = '2025-11-25';

export interface RpcReply {
  id?: unknown;
  result?: unknown;
  error?: { code?: number; message?: string };
}

/** A POST reply is either one JSON object or an SSE stream whose last `data:` event carries the response. */
export function parseReply(contentType: string | undefined, body: string): RpcReply | undefined {
  if (contentType?.includes('text/event-stream')) {
    let last: RpcReply | undefined;
    for (const line of body.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (!data) continue;
      const msg = JSON.parse(data) as RpcReply;
      if (msg.id !== undefined) last = msg;
    }
    return last;
  }
  return body ? (JSON.parse(body) as RpcReply) : undefined;
}

export function baseHeaders(extra: Record<string, string>, sessionId?: string): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': PROTOCOL_VERSION,
    ...extra,
  };
  if (sessionId) h['mcp-session-id'] = sessionId;
  return h;
}

/** Opens one session: initialize, then notifications/initialized. Returns the session id ('' for servers that issue none). */
export async function openSession(d: Dispatcher, origin: string, path: string, extra: Record<string, string>): Promise<string> {
  const init = await d.request({
    origin,
    path,
    method: 'POST',
    headers: baseHeaders(extra),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'toolgate-bench', version: '1.0.0' } },
    }),
  });
  const text = await init.body.text();
  if (init.statusCode !== 200) throw new Error(`initialize at ${path}: HTTP ${init.statusCode} ${text.slice(0, 200)}`);
  const reply = parseReply(String(init.headers['content-type'] ?? ''), text);
  if (!reply || reply.error) throw new Error(`initialize at ${path}: ${reply?.error?.message ?? 'no response'}`);
  const sid = init.headers['mcp-session-id'];
  const sessionId = typeof sid === 'string' ? sid : '';
  const note = await d.request({
    origin,
    path,
    method: 'POST',
    headers: baseHeaders(extra, sessionId),
    body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
  });
  await note.body.text();
  if (note.statusCode >= 300) throw new Error(`notifications/initialized at ${path}: HTTP ${note.statusCode}`);
  return sessionId;
}

/** One request inside an open session; throws on HTTP or JSON-RPC errors. */
export async function rpc(
  d: Dispatcher,
  origin: string,
  path: string,
  extra: Record<string, string>,
  sessionId: string,
  method: string,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await d.request({
    origin,
    path,
    method: 'POST',
    headers: baseHeaders(extra, sessionId),
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method} at ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  const reply = parseReply(String(res.headers['content-type'] ?? ''), text);
  if (!reply || reply.error) throw new Error(`${method} at ${path}: ${reply?.error?.message ?? 'no response'}`);
  return reply.result as Record<string, unknown>;
}

/** Status of one ping in an existing session: 404 once the server has forgotten it. */
export async function pingStatus(
  d: Dispatcher,
  origin: string,
  path: string,
  extra: Record<string, string>,
  sessionId: string,
): Promise<number> {
  const res = await d.request({
    origin,
    path,
    method: 'POST',
    headers: baseHeaders(extra, sessionId),
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  await res.body.text();
  return res.statusCode;
}
