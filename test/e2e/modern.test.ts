import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { EVERYTHING_STDIO, rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';

async function modernClient(url: URL, mode: 'auto' | { pin: string }, capabilities: Record<string, unknown> = {}): Promise<Client> {
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } }));
  return client;
}

function modernBody(id: number, method: string, params: Record<string, unknown> = {}, caps: Record<string, unknown> = {}) {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: { [PV]: '2026-07-28', [CAPS]: caps } } });
}

describe('2026-07-28 clients in front of a 2025-era upstream', () => {
  let gw: TestGateway;
  const clients: Client[] = [];
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n  other:${EVERYTHING_STDIO}\n`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
  });

  for (const path of ['/mcp/everything', '/mcp']) {
    it(`a client pinned to 2026-07-28 lists and calls through ${path}`, async () => {
      const client = await modernClient(gw.mcpUrl(path), { pin: '2026-07-28' });
      clients.push(client);
      assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
      const tools = await client.listTools();
      const echo = path === '/mcp' ? 'everything-echo' : 'echo';
      assert.ok(
        tools.tools.some((t) => t.name === echo),
        'echo listed',
      );
      const r = await client.callTool({ name: echo, arguments: { message: 'modern' } });
      assert.equal(textOf(r), 'Echo: modern');
    });
  }

  it('auto mode negotiates the modern era with server/discover', async () => {
    const client = await modernClient(gw.mcpUrl('/mcp/everything'), 'auto');
    clients.push(client);
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  });

  it('bridges sampling from a 2025 upstream as input_required rounds', async () => {
    const client = await modernClient(gw.mcpUrl('/mcp/everything'), { pin: '2026-07-28' }, { sampling: {} });
    clients.push(client);
    let asked = 0;
    client.setRequestHandler('sampling/createMessage', async () => {
      asked++;
      return { role: 'assistant', content: { type: 'text', text: 'sampled-answer' }, model: 'test-model' };
    });
    const r = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 10 } });
    assert.equal(asked, 1);
    assert.match(JSON.stringify(r), /sampled-answer/);
  });

  it('subscriptions/listen acknowledges the honoured filter and fans in resources/updated', async () => {
    const client = await modernClient(gw.mcpUrl('/mcp/everything'), { pin: '2026-07-28' });
    clients.push(client);
    const uri = 'demo://resource/static/document/architecture.md';
    const updated = new Promise<string>((resolve) => {
      client.setNotificationHandler('notifications/resources/updated', (n) => resolve(String(n.params.uri)));
    });
    const sub = await client.listen({ toolsListChanged: true, resourceSubscriptions: [uri] });
    assert.equal(sub.honoredFilter.toolsListChanged, true);
    assert.deepEqual(sub.honoredFilter.resourceSubscriptions, [uri]);
    // server-everything sends simulated updates for subscribed resources once toggled on.
    await client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    assert.equal(await updated, uri);
    await sub.close();
  });

  it('answers server/discover with versions, capabilities, resultType and cache hints', async () => {
    const r = await rawPost(gw.mcpUrl('/mcp/everything'), modernBody(1, 'server/discover'), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'server/discover',
    });
    assert.equal(r.status, 200);
    assert.ok(r.json.result.supportedVersions.includes('2026-07-28'));
    assert.ok(r.json.result.capabilities.tools);
    assert.equal(r.json.result.resultType, 'complete');
    assert.equal(r.json.result.cacheScope, 'private');
    assert.equal(typeof r.json.result.ttlMs, 'number');
  });

  it('rejects header/body disagreements with -32020 and unknown methods with 404/-32601', async () => {
    const url = gw.mcpUrl('/mcp/everything');
    const call = modernBody(2, 'tools/call', { name: 'echo', arguments: { message: 'x' } });
    const wrongName = await rawPost(url, call, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get-sum' });
    assert.equal(wrongName.status, 400);
    assert.equal(wrongName.json.error.code, -32020);
    const noMethod = await rawPost(url, call, { 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'echo' });
    assert.equal(noMethod.json.error.code, -32020);
    const versionMismatch = await rawPost(url, call, {
      'mcp-protocol-version': '2025-11-25',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    });
    assert.equal(versionMismatch.json.error.code, -32020);
    const b64 = await rawPost(url, call, {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': '=?base64?ZWNobw==?=',
    });
    assert.equal(b64.status, 200);
    assert.equal(b64.json.result.resultType, 'complete');
    const unknown = await rawPost(url, modernBody(3, 'foo/bar'), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'foo/bar' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, -32601);
    const future = JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: { [PV]: '2099-01-01', [CAPS]: {} } } });
    const unsupported = await rawPost(url, future, { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    assert.equal(unsupported.json.error.code, -32022);
    const noCaps = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: { [PV]: '2026-07-28' } } });
    const missing = await rawPost(url, noCaps, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(missing.json.error.code, -32602);
  });

  it('never forwards an input request of a kind the client did not declare', async () => {
    const url = gw.mcpUrl('/mcp/everything');
    // No sampling capability declared: the upstream hides the tool (it offers by capability) or the
    // gateway refuses to relay its request; either way no input_required reaches the client.
    const r = await rawPost(
      url,
      modernBody(6, 'tools/call', { name: 'trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 } }),
      {
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'trigger-sampling-request',
      },
    );
    assert.notEqual(r.json.result?.resultType, 'input_required');
  });

  it('refuses a tampered requestState and one presented by another method', async () => {
    const url = gw.mcpUrl('/mcp/everything');
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'trigger-sampling-request' };
    const first = await rawPost(
      url,
      modernBody(7, 'tools/call', { name: 'trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 } }, { sampling: {} }),
      headers,
    );
    assert.equal(first.json.result.resultType, 'input_required');
    const state: string = first.json.result.requestState;
    const tampered = state.slice(0, -2) + (state.endsWith('A') ? 'BB' : 'AA');
    const bad = await rawPost(
      url,
      modernBody(
        8,
        'tools/call',
        { name: 'trigger-sampling-request', arguments: {}, requestState: tampered, inputResponses: {} },
        { sampling: {} },
      ),
      headers,
    );
    assert.equal(bad.json.error.code, -32602);
    const otherName = await rawPost(
      url,
      modernBody(9, 'tools/call', { name: 'echo', arguments: { message: 'x' }, requestState: state, inputResponses: {} }, { sampling: {} }),
      {
        ...headers,
        'mcp-name': 'echo',
      },
    );
    assert.equal(otherName.json.error.code, -32602);
    // The genuine retry still resumes the waiting call.
    const key = Object.keys(first.json.result.inputRequests)[0]!;
    const done = await rawPost(
      url,
      modernBody(
        10,
        'tools/call',
        {
          name: 'trigger-sampling-request',
          arguments: {},
          requestState: state,
          inputResponses: { [key]: { role: 'assistant', content: { type: 'text', text: 'resumed' }, model: 'm' } },
        },
        { sampling: {} },
      ),
      headers,
    );
    assert.equal(done.json.result.resultType, 'complete');
    assert.match(JSON.stringify(done.json.result), /resumed/);
  });
});
