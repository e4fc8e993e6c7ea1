import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startModernOnly, type ModernOnlyFront } from '../fixtures/modern-only.js';
import { connectClient, rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SAMPLED = { role: 'assistant' as const, content: { type: 'text' as const, text: 'sampled-by-client' }, model: 'test-model' };

describe('a 2026-07-28 upstream behind the gateway', () => {
  let upstream: RunningConformanceServer;
  let front: ModernOnlyFront;
  let gw: TestGateway;
  const clients: Client[] = [];
  before(async () => {
    upstream = await startConformanceServer({ port: 0 });
    front = await startModernOnly(upstream.url);
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${upstream.url}\n  modern_only:\n    url: ${front.url}\n`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await front?.stop();
    await upstream?.stop();
  });

  it('gives a session client a real 2025 session when the upstream serves both eras', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/fixture'));
    clients.push(client);
    await client.setLoggingLevel('debug');
    assert.equal(gw.upstreams.get('fixture')!.speaksLegacy, true);
  });

  it('is probed once and spoken to statelessly', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/fixture'));
    clients.push(client);
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'test_simple_text'));
    assert.equal(gw.upstreams.get('fixture')!.era, 'modern');
    const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
    assert.ok(textOf(r).length > 0);
  });

  it('turns input_required into real sampling requests for a 2025 session client of a 2026-only server, and retries upstream', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/modern_only'), { capabilities: { sampling: {} } });
    clients.push(client);
    let asked = 0;
    client.setRequestHandler('sampling/createMessage', async () => {
      asked++;
      return SAMPLED;
    });
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
    assert.equal(asked, 1);
    assert.match(textOf(r), /sampled-by-client/);
    assert.equal(gw.upstreams.get('modern_only')!.speaksLegacy, false);
  });

  it('passes input_required to a 2026 client with the upstream requestState wrapped and bound to the caller', async () => {
    const url = gw.mcpUrl('/mcp/fixture');
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'test_sampling' };
    const body = (id: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'test_sampling', arguments: { prompt: 'hi' }, ...extra, _meta: { [PV]: '2026-07-28', [CAPS]: { sampling: {} } } },
      });
    const first = await rawPost(url, body(1), headers);
    assert.equal(first.json.result.resultType, 'input_required');
    const state: string = first.json.result.requestState;
    assert.ok(state.startsWith('tg2.'), 'the upstream state is wrapped');
    const key = Object.keys(first.json.result.inputRequests)[0]!;
    const tampered = await rawPost(
      url,
      body(2, { requestState: state.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), inputResponses: { [key]: SAMPLED } }),
      headers,
    );
    assert.equal(tampered.json.error.code, -32602);
    const done = await rawPost(url, body(3, { requestState: state, inputResponses: { [key]: SAMPLED } }), headers);
    assert.equal(done.json.result.resultType, 'complete');
    assert.match(JSON.stringify(done.json.result.content), /sampled-by-client/);
  });

  it('serves a client in auto mode end to end (2026 on both sides)', async () => {
    const client = new Client({ name: 'auto', version: '1' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('sampling/createMessage', async () => SAMPLED);
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcpUrl('/mcp/fixture'), { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } }),
    );
    clients.push(client);
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
    assert.match(textOf(r), /sampled-by-client/);
  });
});
