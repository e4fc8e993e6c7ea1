/**
 * The benchmark's upstream: a minimal MCP server on plain node:http and JSON, with no SDK on the hot path,
 * so that what the harness measures is the proxy in front of it and not this server.
 *
 *   node --import tsx bench/echo-server.ts [--port 0] [--tools 1] [--instances 1]   Streamable HTTP at /mcp
 *   node --import tsx bench/echo-server.ts --stdio [--tools 1]                      newline-delimited JSON-RPC
 *
 * HTTP mode prints one line `listening http://127.0.0.1:PORT/mcp` per instance; `GET /stats` reports how many
 * initialize, tools/list and tools/call requests that instance has received.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const SERVER_INFO = { name: 'toolgate-bench-echo', version: '1.0.0' };
const KNOWN_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

export interface EchoStats {
  initialize: number;
  toolsList: number;
  toolsCall: number;
  sessions: number;
}

interface RpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** Tool names: `echo` first, then `tool_002` … so every instance has an `echo` to call. */
export function toolNames(count: number): string[] {
  const names = ['echo'];
  for (let i = 2; i <= count; i++) names.push(`tool_${String(i).padStart(3, '0')}`);
  return names;
}

/** The protocol logic shared by both transports. Replies are pre-serialized strings: the hot path never builds objects it does not need. */
export class EchoCore {
  readonly stats: EchoStats = { initialize: 0, toolsList: 0, toolsCall: 0, sessions: 0 };
  private readonly tools: Set<string>;
  private readonly listJson: string;

  constructor(toolCount: number) {
    const names = toolNames(Math.max(1, toolCount));
    this.tools = new Set(names);
    this.listJson = JSON.stringify({
      tools: names.map((name) => ({
        name,
        description: name === 'echo' ? 'Returns its text argument.' : `Benchmark tool ${name}; returns its text argument.`,
        inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      })),
    });
  }

  /** The JSON-RPC reply for one request, or undefined for notifications and client responses. */
  handle(msg: RpcMessage): string | undefined {
    if (typeof msg.method !== 'string' || msg.id === undefined) return undefined;
    const id = JSON.stringify(msg.id);
    const params = (typeof msg.params === 'object' && msg.params !== null ? msg.params : {}) as Record<string, unknown>;
    switch (msg.method) {
      case 'tools/call': {
        this.stats.toolsCall++;
        const name = params.name;
        if (typeof name !== 'string' || !this.tools.has(name)) {
          return errorJson(id, -32602, `Unknown tool: ${String(name)}`);
        }
        const args = (params.arguments ?? {}) as Record<string, unknown>;
        const text = typeof args.text === 'string' ? args.text : '';
        return `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":${JSON.stringify(text)}}]}}`;
      }
      case 'tools/list':
        this.stats.toolsList++;
        return `{"jsonrpc":"2.0","id":${id},"result":${this.listJson}}`;
      case 'ping':
        return `{"jsonrpc":"2.0","id":${id},"result":{}}`;
      case 'initialize': {
        this.stats.initialize++;
        const requested = params.protocolVersion;
        const version = typeof requested === 'string' && KNOWN_VERSIONS.includes(requested) ? requested : KNOWN_VERSIONS[0];
        return JSON.stringify({
          jsonrpc: '2.0',
          id: msg.id,
          result: { protocolVersion: version, capabilities: { tools: { listChanged: false } }, serverInfo: SERVER_INFO },
        });
      }
      default:
        return errorJson(id, -32601, `Method not found: ${msg.method}`);
    }
  }
}

function errorJson(id: string, code: number, message: string): string {
  return `{"jsonrpc":"2.0","id":${id},"error":{"code":${code},"message":${JSON.stringify(message)}}}`;
}

export interface EchoHttpServer {
  url: string;
  port: number;
  core: EchoCore;
  close(): Promise<void>;
}

/** One Streamable HTTP echo endpoint at `/mcp`, session-based (2025 era), JSON responses only. */
export async function startEchoHttp(opts: { port?: number; tools?: number }): Promise<EchoHttpServer> {
  const core = new EchoCore(opts.tools ?? 1);
  const sessions = new Set<string>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/stats' && req.method === 'GET') {
      core.stats.sessions = sessions.size;
      reply(res, 200, JSON.stringify(core.stats));
      return;
    }
    if (path !== '/mcp' && !path.startsWith('/mcp?')) {
      reply(res, 404, '{"error":"not found"}');
      return;
    }
    const sid = req.headers['mcp-session-id'];
    if (req.method === 'DELETE') {
      const known = typeof sid === 'string' && sessions.delete(sid);
      res.writeHead(known ? 200 : 404).end();
      return;
    }
    if (req.method !== 'POST') {
      // No server-initiated stream is offered; the spec allows 405 for GET.
      res.writeHead(405, { allow: 'POST, DELETE' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: RpcMessage;
      try {
        msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcMessage;
      } catch {
        reply(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
        return;
      }
      if (Array.isArray(msg) || typeof msg !== 'object' || msg === null) {
        reply(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Send one JSON-RPC message per request"}}');
        return;
      }
      if (msg.method === 'initialize') {
        const id = randomUUID();
        sessions.add(id);
        reply(res, 200, core.handle(msg) ?? '', id);
        return;
      }
      if (typeof sid !== 'string') {
        reply(res, 400, '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Missing Mcp-Session-Id"}}');
        return;
      }
      if (!sessions.has(sid)) {
        reply(res, 404, '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
        return;
      }
      const out = core.handle(msg);
      if (out === undefined) res.writeHead(202).end();
      else reply(res, 200, out);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    core,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(res: http.ServerResponse, status: number, body: string, sessionId?: string): void {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (sessionId) headers['mcp-session-id'] = sessionId;
  res.writeHead(status, headers).end(body);
}

/** stdio mode: one JSON-RPC message per line in, one per line out. */
export function runEchoStdio(tools: number, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): EchoCore {
  const core = new EchoCore(tools);
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let msg: RpcMessage;
    try {
      msg = JSON.parse(line) as RpcMessage;
    } catch {
      output.write('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}\n');
      return;
    }
    const out = core.handle(msg);
    if (out !== undefined) output.write(out + '\n');
  });
  return core;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} expects a non-negative integer, got ${args[i + 1]}`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const tools = flag(args, '--tools', 1);
  if (args.includes('--stdio')) {
    runEchoStdio(tools, process.stdin, process.stdout);
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  const instances = flag(args, '--instances', 1);
  const port = flag(args, '--port', 0);
  for (let i = 0; i < Math.max(1, instances); i++) {
    // With several instances a fixed port only makes sense for the first one.
    const s = await startEchoHttp({ port: i === 0 ? port : 0, tools });
    process.stdout.write(`listening ${s.url}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`echo-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
