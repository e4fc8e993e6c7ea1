import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { connectClient, rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

/** Used as every upstream credential: it must never come back out of the gateway. */
const CANARY = 'tg-canary-7f3c9e1d5b';
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** auth_type → the exact header the upstream must receive (undefined: no credential header at all). */
const CASES: Array<{ type: string; header?: [string, string] }> = [
  { type: 'none' },
  { type: 'api_key', header: ['x-api-key', CANARY] },
  { type: 'bearer_token', header: ['authorization', `Bearer ${CANARY}`] },
  { type: 'basic', header: ['authorization', `Basic ${Buffer.from(`user:${CANARY}`).toString('base64')}`] },
  { type: 'authorization', header: ['authorization', `Custom ${CANARY}`] },
  { type: 'token', header: ['authorization', `Token ${CANARY}`] },
];

function authValue(type: string): string {
  return type === 'basic' ? `user:${CANARY}` : type === 'authorization' ? `Custom ${CANARY}` : CANARY;
}

/** Every secret-bearing form of the canary: raw, and inside the Basic header. */
function assertNoCanary(text: string, where: string): void {
  assert.ok(!text.includes(CANARY), `canary in ${where}`);
  assert.ok(!text.includes(Buffer.from(`user:${CANARY}`).toString('base64')), `encoded canary in ${where}`);
}

async function sessionOf(url: URL, headers: Record<string, string> = {}): Promise<string> {
  const r = await rawPost(url, INIT, headers);
  assert.equal(r.status, 200, r.text);
  return r.headers.get('mcp-session-id')!;
}

describe('upstream credentials per auth_type', () => {
  const recorders = new Map<string, HeaderRecorder>();
  let legacy: HeaderRecorder;
  let rejecting: HeaderRecorder;
  let gw: TestGateway;
  let gwClosed = false;
  const responses: string[] = [];

  before(async () => {
    let yaml = 'mcp_servers:\n';
    for (const c of CASES) {
      const rec = await startHeaderRecorder({ respondWith: 'sse' });
      recorders.set(c.type, rec);
      yaml += `  up_${c.type}:\n    url: ${rec.url}\n    auth_type: ${c.type}\n`;
      if (c.type !== 'none') yaml += `    auth_value: ${JSON.stringify(authValue(c.type))}\n`;
    }
    legacy = await startHeaderRecorder();
    yaml += `  legacy:\n    url: ${legacy.sseUrl}\n    transport: sse\n    auth_type: bearer_token\n    authentication_token: ${CANARY}\n`;
    // An upstream refusing the credential: its error must reach the client without the credential.
    rejecting = await startHeaderRecorder({ authorize: () => false });
    yaml += `  rejecting:\n    url: ${rejecting.url}\n    auth_type: api_key\n    auth_value: ${CANARY}\n    timeout: 5\n`;
    yaml += `  dead:\n    url: http://127.0.0.1:9/mcp\n    auth_type: bearer_token\n    auth_value: ${CANARY}\n    timeout: 5\n`;
    gw = await startTestGateway(yaml);
  });
  after(async () => {
    if (!gwClosed) await gw?.close();
    for (const r of [...recorders.values(), legacy, rejecting]) await r?.stop();
  });

  it('sends the exact header on POSTs, the GET stream and DELETE, and never the Toolgate key', async () => {
    for (const c of CASES) {
      const url = gw.mcpUrl(`/mcp/up_${c.type}`);
      // Both ways of presenting the gateway key: neither may travel upstream.
      for (const headers of [{}, { authorization: '', 'x-litellm-api-key': `Bearer ${TEST_KEY}` }] as Record<string, string>[]) {
        const client = await connectClient(url, { headers, capabilities: { sampling: {} } });
        const r = await client.callTool({ name: 'echo', arguments: { message: 'x' } });
        responses.push(JSON.stringify(r));
        await (client.transport as StreamableHTTPClientTransport).terminateSession();
        await client.close();
      }
    }
    const viaLegacy = await connectClient(gw.mcpUrl('/mcp/legacy'));
    responses.push(JSON.stringify(await viaLegacy.callTool({ name: 'echo', arguments: { message: 'y' } })));
    await viaLegacy.close();
    await gw.close();
    gwClosed = true;

    for (const c of CASES) {
      const seen = recorders.get(c.type)!.requests;
      const methods = new Set(seen.map((r) => r.method));
      for (const m of ['POST', 'GET', 'DELETE']) assert.ok(methods.has(m), `${c.type}: no upstream ${m} seen (${[...methods]})`);
      for (const r of seen) {
        const where = `${c.type} ${r.method} ${r.path}`;
        if (c.header) assert.equal(r.headers[c.header[0]], c.header[1], where);
        else {
          assert.equal(r.headers.authorization, undefined, where);
          assert.equal(r.headers['x-api-key'], undefined, where);
        }
        assert.equal(r.headers['x-litellm-api-key'], undefined, where);
        assert.ok(!JSON.stringify(r.headers).includes(TEST_KEY), `Toolgate key upstream: ${where}`);
      }
    }
    const legacyPaths = new Set(legacy.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`));
    assert.ok(legacyPaths.has('GET /sse') && legacyPaths.has('POST /message'), [...legacyPaths].join());
    for (const r of legacy.requests) {
      assert.equal(r.headers.authorization, `Bearer ${CANARY}`, `${r.method} ${r.path}`);
      assert.ok(!JSON.stringify(r.headers).includes(TEST_KEY));
    }
  });

  it('keeps the canary out of error responses and logs', async () => {
    if (gwClosed) {
      gw = await startTestGateway(gwYamlForErrors(rejecting.url));
      gwClosed = false;
    }
    for (const server of ['rejecting', 'dead']) {
      const r = await rawPost(gw.mcpUrl(`/mcp/${server}`), INIT);
      responses.push(r.text);
      assert.ok(r.json?.error, `${server}: expected a JSON-RPC error, got ${r.status} ${r.text}`);
      assert.match(r.json.error.message, new RegExp(server));
    }
    for (const text of responses) assertNoCanary(text, 'a response');
    assert.ok(gw.logs.length > 0);
    assertNoCanary(gw.logs.join(''), 'the logs');
    assert.ok(
      rejecting.requests.some((r) => r.headers['x-api-key'] === CANARY),
      'the rejected credential was sent',
    );
  });
});

function gwYamlForErrors(rejectingUrl: string): string {
  return (
    'mcp_servers:\n' +
    `  rejecting:\n    url: ${rejectingUrl}\n    auth_type: api_key\n    auth_value: ${CANARY}\n    timeout: 5\n` +
    `  dead:\n    url: http://127.0.0.1:9/mcp\n    auth_type: bearer_token\n    auth_value: ${CANARY}\n    timeout: 5\n`
  );
}

describe('the Toolgate master key', () => {
  let upstream: HeaderRecorder;
  let gw: TestGateway;
  before(async () => {
    upstream = await startHeaderRecorder();
    gw = await startTestGateway(`mcp_servers:\n  rec:\n    url: ${upstream.url}\n`);
  });
  after(async () => {
    await gw?.close();
    await upstream?.stop();
  });

  it('is accepted as Authorization: Bearer, x-litellm-api-key, and x-litellm-api-key: Bearer', async () => {
    const url = gw.mcpUrl('/mcp/rec');
    for (const headers of [
      { authorization: `Bearer ${TEST_KEY}` },
      { authorization: '', 'x-litellm-api-key': TEST_KEY },
      { authorization: '', 'x-litellm-api-key': `Bearer ${TEST_KEY}` },
    ] as Record<string, string>[]) {
      const r = await rawPost(url, INIT, headers);
      assert.equal(r.status, 200, `${JSON.stringify(Object.keys(headers))}: ${r.text}`);
      assert.ok(r.json.result.serverInfo);
    }
  });

  it('missing or wrong: 401 with WWW-Authenticate: Bearer, on every method', async () => {
    const url = gw.mcpUrl('/mcp/rec');
    for (const headers of [
      { authorization: '' },
      { authorization: `Bearer ${TEST_KEY}x` },
      { authorization: TEST_KEY },
      { authorization: '', 'x-litellm-api-key': 'sk-wrong' },
      { authorization: `Basic ${Buffer.from(`u:${TEST_KEY}`).toString('base64')}` },
    ] as Record<string, string>[]) {
      const r = await rawPost(url, INIT, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer\b/);
      assert.ok(!r.text.includes(TEST_KEY));
    }
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, { method, headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' } });
      assert.equal(res.status, 401, method);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
      await res.body?.cancel();
    }
  });

  it('a session answers only requests carrying its key, on its route or the alias', async () => {
    const url = gw.mcpUrl('/mcp/rec');
    const sid = await sessionOf(url);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const ok = await rawPost(url, list, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(ok.status, 200, ok.text);
    const other = await rawPost(url, list, { 'mcp-session-id': sid, authorization: 'Bearer sk-someone-else' });
    assert.equal(other.status, 401);
    const alias = await rawPost(gw.mcpUrl('/rec/mcp'), list, { 'mcp-session-id': sid });
    assert.equal(alias.status, 200, 'the alias is the same route');
  });

  it('comes from TOOLGATE_MASTER_KEY when the config has none', async () => {
    const envKey = 'sk-from-env-5d1e9a';
    const envGw = await startTestGateway(`mcp_servers:\n  rec:\n    url: ${upstream.url}\n`, {
      TOOLGATE_MASTER_KEY: envKey,
      LITELLM_MASTER_KEY: undefined,
    });
    try {
      const url = envGw.mcpUrl('/mcp/rec');
      assert.equal((await rawPost(url, INIT, { authorization: `Bearer ${envKey}` })).status, 200);
      assert.equal((await rawPost(url, INIT)).status, 401, 'the test key is not the env key');
    } finally {
      await envGw.close();
    }
  });

  it('a client with the key works end to end through the SDK', async () => {
    const client = new Client({ name: 'k', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcpUrl('/mcp/rec'), { requestInit: { headers: { 'x-litellm-api-key': TEST_KEY } } }),
    );
    try {
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'k' } })), '{"message":"k"}');
    } finally {
      await client.close();
    }
  });
});
