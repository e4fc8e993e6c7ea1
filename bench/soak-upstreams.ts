/**
 * The soak's own two upstreams, in one process of their own (the gateway must not share an event loop
 * with what it talks to):
 *   node --import tsx bench/soak-upstreams.ts --chatty-bytes N --chatty-every-ms T
 * prints `listening chatty URL` and `listening garbage URL`.
 *
 * Both are minimal Streamable HTTP MCP servers (JSON answers, one `echo` tool, sessions, a GET stream):
 *   - chatty pushes a notifications/message of N bytes every T ms on every open GET stream, so that a
 *     client that never reads its own GET stream shows whether the gateway buffers without bound;
 *   - garbage answers like chatty until `POST /soak/garbage/on`, then answers every request with nonsense
 *     (a different kind each time) until `POST /soak/garbage/off`, so the soak sees whether it heals.
 * `GET /soak/stats` on either reports the sessions the server holds, the upstream-side leak count.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

type Json = Record<string, unknown>;

export interface FixtureStats {
  /** Sessions initialized and not yet DELETEd. */
  sessions: number;
  initializes: number;
  /** GET streams open right now. */
  streams: number;
  garbage: boolean;
  garbageAnswers: number;
}

const ECHO_TOOL = {
  name: 'echo',
  description: 'Echoes message',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
};

interface Fixture {
  name: string;
  sessions: Set<string>;
  streams: Set<ServerResponse>;
  stats: FixtureStats;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Every kind of nonsense the garbage server answers, in turn: each is something a broken server really sends. */
const NONSENSE: Array<(res: ServerResponse, id: unknown) => void> = [
  (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>'),
  (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":'),
  (res) => send(res, 200, { jsonrpc: '2.0', id: `not-${randomUUID()}`, result: {} }),
  (res) => send(res, 200, [1, 2, 3]),
  (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: not json\n\nevent: message\ndata: {"foo":\n\n'),
  (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('x'.repeat(256 * 1024)),
  (res) => res.socket?.destroy(),
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"jsonrpc":');
    setTimeout(() => res.socket?.destroy(), 20);
  },
  (res, id) => send(res, 200, { jsonrpc: '2.0', id, result: 'a string where an object belongs' }),
  (res, id) => send(res, 200, { jsonrpc: '1.0', id, error: 'boom' }),
  (res) => res.writeHead(204).end(),
  (res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0, 255, 1, 254, 2])),
];

function answerMcp(f: Fixture, msg: Json, req: IncomingMessage, res: ServerResponse): void {
  if (msg.method === 'initialize') {
    f.stats.initializes++;
    const sid = randomUUID();
    f.sessions.add(sid);
    f.stats.sessions = f.sessions.size;
    const version = ((msg.params ?? {}) as Json).protocolVersion ?? '2025-11-25';
    const result = { protocolVersion: version, capabilities: { tools: {}, logging: {} }, serverInfo: { name: f.name, version: '1.0.0' } };
    return send(res, 200, { jsonrpc: '2.0', id: msg.id, result }, { 'mcp-session-id': sid });
  }
  if (!f.sessions.has(String(req.headers['mcp-session-id']))) {
    return send(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
  }
  if (!('id' in msg)) return void res.writeHead(202).end();
  const params = (msg.params ?? {}) as Json;
  switch (msg.method) {
    case 'tools/list':
      return send(res, 200, { jsonrpc: '2.0', id: msg.id, result: { tools: [ECHO_TOOL] } });
    case 'tools/call': {
      const args = (params.arguments ?? {}) as Json;
      const text = `Echo: ${String(args.message ?? '')}`;
      return send(res, 200, { jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text }] } });
    }
    case 'ping':
    case 'logging/setLevel':
      return send(res, 200, { jsonrpc: '2.0', id: msg.id, result: {} });
    default:
      return send(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${String(msg.method)}` } });
  }
}

function openStream(f: Fixture, req: IncomingMessage, res: ServerResponse): void {
  if (!f.sessions.has(String(req.headers['mcp-session-id'])))
    return send(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  f.streams.add(res);
  f.stats.streams = f.streams.size;
  res.on('close', () => {
    f.streams.delete(res);
    f.stats.streams = f.streams.size;
  });
}

async function handle(f: Fixture, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) body += chunk;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/soak/stats') return send(res, 200, f.stats);
  if (path === '/soak/garbage/on' || path === '/soak/garbage/off') {
    f.stats.garbage = path.endsWith('/on');
    return send(res, 200, f.stats);
  }
  if (path !== '/mcp') return send(res, 404, { error: 'not found' });
  let msg: Json = {};
  try {
    if (body) msg = JSON.parse(body) as Json;
  } catch {
    return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  }
  // A DELETE ends the session even when the answer is nonsense: what the server still holds afterwards
  // is then only what the gateway walked away from.
  if (req.method === 'DELETE') {
    f.sessions.delete(String(req.headers['mcp-session-id']));
    f.stats.sessions = f.sessions.size;
  }
  if (f.stats.garbage) {
    const kind = NONSENSE[f.stats.garbageAnswers++ % NONSENSE.length]!;
    return kind(res, msg.id);
  }
  if (req.method === 'GET') return openStream(f, req, res);
  if (req.method === 'DELETE') return void res.writeHead(200).end();
  answerMcp(f, msg, req, res);
}

async function listen(name: string): Promise<{ fixture: Fixture; url: string }> {
  const fixture: Fixture = {
    name,
    sessions: new Set(),
    streams: new Set(),
    stats: { sessions: 0, initializes: 0, streams: 0, garbage: false, garbageAnswers: 0 },
  };
  const server = createServer((req, res) => {
    handle(fixture, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { fixture, url: `http://127.0.0.1:${port}/mcp` };
}

/** Pushes to every open stream; a stream whose reader (the gateway) lags is skipped, so this process stays small. */
function chatter(f: Fixture, bytes: number, everyMs: number): void {
  const data = 'c'.repeat(bytes);
  let n = 0;
  setInterval(() => {
    const event = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', logger: 'chatty', data: `${n++} ${data}` } })}\n\n`;
    for (const res of f.streams) if (!res.writableNeedDrain) res.write(event);
  }, everyMs);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'chatty-bytes': { type: 'string' }, 'chatty-every-ms': { type: 'string' } } });
  const chatty = await listen('chatty');
  const garbage = await listen('garbage');
  chatter(chatty.fixture, Number(values['chatty-bytes'] ?? 16_384), Number(values['chatty-every-ms'] ?? 20));
  process.stdout.write(`listening chatty ${chatty.url}\nlistening garbage ${garbage.url}\n`);
}

void main();
