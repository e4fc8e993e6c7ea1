import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { api } from '../admin/api.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { keyWithLimits, RAW_PATHS } from './drive.js';

describe('a limited call on the wire: HTTP 429, Retry-After and a JSON-RPC error', { timeout: 60_000 }, () => {
  let alpha: CatalogServer;
  let gw: TestGateway;

  before(async () => {
    alpha = await startCatalogServer({ name: 'alpha', tools: [tool('t1')] });
    gw = await startTestGateway(`mcp_servers:\n  alpha: { url: "${alpha.url}" }\n`);
  });
  after(
    async () => {
      await gw?.close();
      await stopAll([alpha]);
    },
    { timeout: 30_000 },
  );

  for (const [path, send] of Object.entries(RAW_PATHS)) {
    it(`${path}: 429 with Retry-After, code -32033, LiteLLM's wording; the upstream is not reached`, async () => {
      const { key, owner } = await keyWithLimits(gw, 'key', { rpm_limit: 1 });
      const url = gw.mcpUrl('/mcp/alpha');
      const first = await send(url, key, 't1');
      assert.equal(first.status, 200, first.text);
      const reached = alpha.calls.length;
      const r = await send(url, key, 't1');
      assert.equal(r.status, 429, r.text);
      const retryAfter = Number(r.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers.get('retry-after')}`);
      assert.equal(r.json.error.code, -32033);
      assert.equal(r.json.error.message, `Crossed RPM limit for ${owner} (rpm_limit). current rpm: 2, rpm limit: 1`);
      assert.deepEqual(r.json.error.data, { retryAfterSeconds: retryAfter, limit_type: 'rpm_limit', current: 2, limit: 1 });
      assert.ok(!r.text.includes(key), 'the key never appears in the answer');
      assert.equal(alpha.calls.length, reached, 'the limited call never reached the upstream');
    });
  }

  it('legacy HTTP+SSE: the status was sent with the stream, so the JSON-RPC error (-32033, retryAfterSeconds) is the answer', async () => {
    const { key, owner } = await keyWithLimits(gw, 'key', { rpm_limit: 1 });
    const auth = { authorization: `Bearer ${key}` };
    const client = new Client({ name: 'limits-sse', version: '1.0.0' }, { capabilities: {} });
    await client.connect(
      new SSEClientTransport(gw.mcpUrl('/mcp/alpha/sse'), {
        eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }) },
        requestInit: { headers: auth },
      }),
    );
    try {
      await client.callTool({ name: 't1', arguments: {} });
      const reached = alpha.calls.length;
      await assert.rejects(client.callTool({ name: 't1', arguments: {} }), (err: { code?: number; message: string; data?: unknown }) => {
        assert.equal(err.code, -32033);
        assert.ok(err.message.includes(`Crossed RPM limit for ${owner} (rpm_limit). current rpm: 2, rpm limit: 1`), err.message);
        assert.equal((err.data as { retryAfterSeconds?: number }).retryAfterSeconds! >= 1, true);
        return true;
      });
      assert.equal(alpha.calls.length, reached);
    } finally {
      await client.close();
    }
  });

  it('mcp_tool_rpm_limit is validated: "server/tool" keys and whole requests per minute', async () => {
    for (const bad of [{ alpha: 1 }, { 'alpha/t1': -1 }, { 'alpha/t1': 1.5 }, ['alpha/t1']]) {
      const r = await api(gw, 'POST', '/key/generate', { mcp_tool_rpm_limit: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.json.error.type, 'bad_request_error');
      assert.match(r.json.error.param, /^mcp_tool_rpm_limit/);
      assert.match(r.json.error.message, /mcp_tool_rpm_limit/);
    }
    const ok = await api(gw, 'POST', '/key/generate', { mcp_tool_rpm_limit: { 'alpha/t1': 2 } });
    assert.equal(ok.status, 200, ok.text);
    const info = await api(gw, 'GET', `/key/info?key=${ok.json.key}`);
    assert.deepEqual(info.json.info.mcp_tool_rpm_limit, { 'alpha/t1': 2 });
  });

  it('readiness shows where the counters live', async () => {
    const r = await fetch(gw.url + '/health/readiness');
    assert.deepEqual(((await r.json()) as { rate_limits: unknown }).rate_limits, { backend: 'memory' });
  });
});
