import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../fixtures/listen.js';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const BEARER = 'canary-result-bearer-8a7b6c5d4e3f';
const ENV_SECRET = 'canary-result-env-2468013579';

/**
 * A working MCP server that answers every tools/call with the request's own headers, as JSON or as
 * an SSE stream (path /sse): an upstream that echoes our credential inside a successful result.
 */
async function startEchoingServer(): Promise<{ server: Server; url: string }> {
  const { server, port } = await listenLocal(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const msg = JSON.parse(text) as { id?: number; method: string; params?: { protocolVersion?: string } };
    if (msg.id === undefined) return void res.writeHead(202).end();
    const result =
      msg.method === 'initialize'
        ? {
            protocolVersion: msg.params?.protocolVersion ?? '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 'echo', version: '1' },
          }
        : msg.method === 'tools/list'
          ? { tools: [{ name: 'headers', inputSchema: { type: 'object' } }] }
          : { content: [{ type: 'text', text: `you sent ${JSON.stringify(req.headers)}` }], structuredContent: { headers: req.headers } };
    const body = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result });
    if (req.url === '/sse') res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`event: message\ndata: ${body}\n\n`);
    else res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return { server, url: `http://127.0.0.1:${port}` };
}

/** A stdio server answering tools/call with its own environment. */
const STDIO_ECHO = [
  'const rl = require("readline").createInterface({ input: process.stdin });',
  'rl.on("line", (l) => { const m = JSON.parse(l); if (m.id === undefined) return;',
  '  const r = m.method === "initialize" ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "env", version: "1" } }',
  '    : m.method === "tools/list" ? { tools: [{ name: "env", inputSchema: { type: "object" } }] }',
  '    : { content: [{ type: "text", text: "env " + process.env.SECRET_TOKEN }] };',
  '  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: r }) + "\\n"); });',
].join(' ');

// The standard: secrets never leak, "including text an upstream echoes back" — in results as in errors.
describe('secrets an upstream echoes in a successful result', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let echoing: { server: Server; url: string };
  before(async () => {
    echoing = await startEchoingServer();
    gw = await startTestGateway(
      'mcp_servers:\n' +
        `  json:\n    url: ${echoing.url}/rpc\n    auth_type: bearer_token\n    auth_value: ${BEARER}\n` +
        `  stream:\n    url: ${echoing.url}/sse\n    auth_type: bearer_token\n    auth_value: ${BEARER}\n` +
        `  child:\n    command: node\n    args: ["-e", ${JSON.stringify(STDIO_ECHO)}]\n    env: { SECRET_TOKEN: ${ENV_SECRET} }\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await new Promise<void>((r) => echoing?.server.close(() => r()));
  });

  for (const [server, tool] of [
    ['json', 'headers'],
    ['stream', 'headers'],
    ['child', 'env'],
  ] as const) {
    it(`${server}: the result reaches the client with the credential masked`, async () => {
      const client = await connectClient(gw.mcpUrl(`/mcp/${server}`));
      try {
        const text = JSON.stringify(await client.callTool({ name: tool, arguments: {} }));
        assert.match(text, /\[redacted\]/, 'the echo came back, masked');
        assert.ok(!text.includes(BEARER) && !text.includes(ENV_SECRET), text);
      } finally {
        await client.close();
      }
    });
  }
});
