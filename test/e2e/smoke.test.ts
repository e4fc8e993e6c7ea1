import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { connectClient, EVERYTHING_STDIO, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

describe('smoke', () => {
  let gw: TestGateway;
  let client: Client;
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n`);
    client = await connectClient(gw.mcpUrl('/mcp/everything'));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
  });
  it('lists and calls', async () => {
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'echo'));
    const r = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    assert.equal(textOf(r), 'Echo: hi');
  });
});
