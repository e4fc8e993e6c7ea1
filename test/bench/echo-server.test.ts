import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { startEchoHttp, type EchoHttpServer } from '../../bench/echo-server.js';

const ECHO_SERVER = fileURLToPath(new URL('../../bench/echo-server.ts', import.meta.url));

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

describe('bench echo server over Streamable HTTP', () => {
  let server: EchoHttpServer;
  const clients: Client[] = [];
  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
  });

  async function connect(): Promise<Client> {
    const client = new Client({ name: 'echo-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    clients.push(client);
    return client;
  }

  it('initializes, lists its tools, echoes and answers ping with the official client', async () => {
    server = await startEchoHttp({ port: 0, tools: 5 });
    const client = await connect();
    assert.equal(client.getServerVersion()?.name, 'toolgate-bench-echo');

    const listed = await client.listTools();
    assert.deepEqual(
      listed.tools.map((t) => t.name),
      ['echo', 'tool_002', 'tool_003', 'tool_004', 'tool_005'],
    );

    const result = await client.callTool({ name: 'echo', arguments: { text: 'héllo "world"' } });
    assert.equal(textOf(result), 'héllo "world"');
    assert.deepEqual(await client.ping(), {});
  });

  it('counts listings and calls separately in /stats', async () => {
    const before = (await (await fetch(server.url.replace('/mcp', '/stats'))).json()) as Record<string, number>;
    const client = await connect();
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'tool_003', arguments: { text: String(i) } });
    const stats = (await (await fetch(server.url.replace('/mcp', '/stats'))).json()) as Record<string, number>;
    assert.equal(stats.toolsCall - before.toolsCall, 3);
    assert.equal(stats.toolsList, before.toolsList);
    assert.equal(stats.initialize - before.initialize, 1);
  });

  it('refuses unknown tools and unknown sessions', async () => {
    const client = await connect();
    await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool/);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'not-a-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.status, 404);
    const note = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(note.status, 400);
  });
});

describe('bench echo server over stdio', () => {
  const client = new Client({ name: 'echo-test-stdio', version: '1.0.0' });
  after(async () => {
    await client.close();
  });

  it('speaks newline-delimited JSON-RPC to the official stdio client', async () => {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', ECHO_SERVER, '--stdio', '--tools', '3'],
        stderr: 'pipe',
      }),
    );
    const listed = await client.listTools();
    assert.equal(listed.tools.length, 3);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'over stdio' } });
    assert.equal(textOf(result), 'over stdio');
  });
});
