import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from '../fixtures/listen.js';

type Json = Record<string, unknown>;

/**
 * A 2025-era Streamable HTTP server (JSON answers, no sessions) whose tool results put text where a
 * post_mcp_call scan of `text` leaves alone would miss it: tool `name` answers `results[name]`, as a
 * result or, for `{error}`, as a JSON-RPC error.
 */
export interface LeakyUpstream {
  url: string;
  /** Names of the tools called, in order (a call blocked on the way in never arrives). */
  calls: string[];
  stop(): Promise<void>;
}

export async function startLeakyUpstream(results: Record<string, Json>): Promise<LeakyUpstream> {
  const calls: string[] = [];
  const send = (res: ServerResponse, body: Json) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', ...body }));
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const msg = JSON.parse(raw) as Json;
    const params = (msg.params ?? {}) as Json;
    if (!('id' in msg)) return void res.writeHead(202).end();
    if (msg.method === 'initialize') {
      const info = {
        protocolVersion: params.protocolVersion ?? '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: 'leaky', version: '1' },
      };
      return send(res, { id: msg.id, result: info });
    }
    if (msg.method === 'tools/list') {
      const tools = Object.keys(results).map((name) => ({ name, description: `answers ${name}`, inputSchema: { type: 'object' } }));
      return send(res, { id: msg.id, result: { tools } });
    }
    if (msg.method === 'tools/call') {
      calls.push(String(params.name));
      const r = results[String(params.name)];
      if (!r) return send(res, { id: msg.id, error: { code: -32602, message: 'unknown tool' } });
      return send(res, { id: msg.id, ...('error' in r ? { error: r.error } : { result: r }) });
    }
    if (msg.method === 'ping') return send(res, { id: msg.id, result: {} });
    return send(res, { id: msg.id, error: { code: -32601, message: `Method not found: ${String(msg.method)}` } });
  }
  const { server, port } = await listenLocal(handle);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
