import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

/** Hostile input at the edge (issue 11 items 9-14, issue 15's 401): each answered at once, nothing forwarded. */

const MAX_DEPTH = 32;
const MAX_BATCH = 5;

function initBody(protocolVersion = '2025-11-25', capabilities: unknown = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'h', version: '1' } },
  });
}

/** `{"a":{"a":...}}` `depth` objects deep, built as text (a JSON.stringify of it would overflow first). */
function nested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

describe('hostile input at the edge', () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;

  async function session(path: string, version = '2025-11-25'): Promise<Record<string, string>> {
    const r = await rawPost(gw.mcpUrl(path), initBody(version));
    assert.equal(r.status, 200, r.text);
    const headers = { 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': version };
    await rawPost(gw.mcpUrl(path), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    return headers;
  }

  function forwarded(pred: (body: any) => boolean): boolean {
    return recorder.requests.some((r) => {
      try {
        return pred(JSON.parse(r.body));
      } catch {
        return false;
      }
    });
  }

  before(async () => {
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n  rec2:\n    url: ${recorder.url}\n` +
        `toolgate_settings:\n  max_json_depth: ${MAX_DEPTH}\n  max_batch_size: ${MAX_BATCH}\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await recorder?.stop();
  });

  it('prototype keys as methods get -32601 on passthrough and aggregate, never reach a lookup or the upstream', async () => {
    for (const path of ['/mcp', '/mcp/rec']) {
      const headers = await session(path);
      for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const r = await rawPost(gw.mcpUrl(path), JSON.stringify({ jsonrpc: '2.0', id: 7, method }), headers);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.error?.code, -32601, `${path} ${method}: ${r.text}`);
        assert.equal(r.json.result, undefined);
      }
    }
    assert.equal(
      forwarded((b) => b.method === 'constructor' || b.method === '__proto__'),
      false,
    );
  });

  it('bad percent-encoding in the path is a 400 with a JSON error, with or without a key', async () => {
    for (const path of ['/mcp/%', '/mcp/%zz', '/mcp/%ff', '/mcp/%E0%A4%A', '/%zz/mcp', '/mcp/%zz/sse']) {
      for (const auth of [{ authorization: `Bearer ${TEST_KEY}` }, {}] as Record<string, string>[]) {
        const r = await fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{}' });
        assert.equal(r.status, 400, path);
        const body = (await r.json()) as { message: string };
        assert.match(body.message, /percent-encoding/);
      }
    }
  });

  it('JSON nested deeper than max_json_depth: -32602 naming the request when in params, -32600 otherwise, no stack overflow', async () => {
    const deepInit = `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":${nested(100_000)}}}`;
    const r1 = await rawPost(gw.mcpUrl('/mcp/rec'), deepInit);
    assert.equal(r1.status, 400, r1.text);
    assert.equal(r1.json.error.code, -32602);
    assert.equal(r1.json.id, 3);
    assert.match(r1.json.error.message, /max_json_depth/);

    const headers = await session('/mcp/rec');
    const deepCall = `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":${nested(5_000)}}}`;
    const r2 = await rawPost(gw.mcpUrl('/mcp/rec'), deepCall, headers);
    assert.equal(r2.status, 400);
    assert.equal(r2.json.error.code, -32602);
    assert.equal(r2.json.id, 4);

    const deepEnvelope = '['.repeat(50_000) + ']'.repeat(50_000);
    const r3 = await rawPost(gw.mcpUrl('/mcp/rec'), deepEnvelope, headers);
    assert.equal(r3.status, 400);
    assert.equal(r3.json.error.code, -32600);

    // Just inside the bound still works.
    const fine = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":${nested(MAX_DEPTH - 4)}}}`;
    const r4 = await rawPost(gw.mcpUrl('/mcp/rec'), fine, headers);
    assert.equal(r4.status, 200, r4.text);
    assert.ok(r4.json.result, r4.text);
  });

  it('params that are not an object, or _meta that is not one, get -32602 at once and are not forwarded', async () => {
    const headers = await session('/mcp/rec');
    const cases: unknown[] = [[], [1, 2], { name: 'echo', _meta: 'str' }, { name: 'echo', _meta: [1] }, { name: 'echo', _meta: null }];
    for (const [i, params] of cases.entries()) {
      const r = await rawPost(
        gw.mcpUrl('/mcp/rec'),
        JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params }),
        headers,
      );
      assert.equal(r.json?.error?.code, -32602, r.text);
      assert.equal(r.json.id, 100 + i);
      assert.match(r.json.error.message, /params/);
    }
    const missing = await rawPost(gw.mcpUrl('/mcp/rec'), JSON.stringify({ jsonrpc: '2.0', id: 110, method: 'tools/call' }), headers);
    assert.equal(missing.json.error.code, -32602);
    assert.equal(
      forwarded(
        (b) => b.method === 'tools/call' && (Array.isArray(b.params) || typeof b.params?._meta === 'string' || b.params === undefined),
      ),
      false,
    );
    // Scalar params are not JSON-RPC at all.
    const scalar = await rawPost(
      gw.mcpUrl('/mcp/rec'),
      JSON.stringify({ jsonrpc: '2.0', id: 111, method: 'tools/call', params: 'str' }),
      headers,
    );
    assert.equal(scalar.json.error.code, -32600);
  });

  it('a batch over max_batch_size is refused as a whole with a clear error; one at the cap is served', async () => {
    const headers = await session('/mcp/rec', '2025-03-26');
    const pings = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'ping' })));
    const over = await rawPost(gw.mcpUrl('/mcp/rec'), pings(MAX_BATCH + 1), headers);
    assert.equal(over.status, 400);
    assert.equal(over.json.error.code, -32600);
    assert.match(over.json.error.message, new RegExp(`${MAX_BATCH + 1} messages.*limit of ${MAX_BATCH}.*max_batch_size`));
    const huge = await rawPost(gw.mcpUrl('/mcp/rec'), pings(10_000), headers);
    assert.equal(huge.status, 400);
    const at = await rawPost(gw.mcpUrl('/mcp/rec'), pings(MAX_BATCH), headers);
    assert.equal(at.status, 200, at.text);
    assert.equal(at.json.length, MAX_BATCH);
  });

  it('401 says whether the key was missing or wrong and which headers carry it, never echoing the key', async () => {
    const canary = 'sk-canary-wrong-key-5d1f0a';
    const missing = await fetch(gw.mcpUrl('/mcp/rec'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: initBody(),
    });
    assert.equal(missing.status, 401);
    const m = (await missing.json()) as any;
    assert.match(m.error.message, /no Toolgate key was sent/);
    assert.match(m.error.message, /Authorization: Bearer/);
    assert.match(m.error.message, /x-litellm-api-key/);
    assert.equal(m.error.data.reason, 'missing_key');

    for (const [header, value, named] of [
      ['authorization', `Bearer ${canary}`, /Authorization header/],
      ['x-litellm-api-key', canary, /x-litellm-api-key header/],
    ] as const) {
      const r = await fetch(gw.mcpUrl('/mcp/rec'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: value },
        body: initBody(),
      });
      assert.equal(r.status, 401);
      const text = await r.text();
      assert.ok(!text.includes(canary), 'the presented key is never echoed');
      const body = JSON.parse(text);
      assert.match(body.error.message, /not valid/);
      assert.match(body.error.message, named);
      assert.equal(body.error.data.reason, 'invalid_key');
      assert.match(r.headers.get('www-authenticate') ?? '', /invalid_token/);
    }
    assert.ok(!gw.logs.join('').includes(canary), 'nor logged');
  });

  it('health endpoints get the same Host and Origin checks as the MCP paths', async () => {
    for (const path of ['/health/readiness', '/health/liveliness', '/health/liveness']) {
      assert.equal((await fetch(gw.url + path)).status === 403, false, path);
      const evilOrigin = await fetch(gw.url + path, { headers: { origin: 'http://evil.example' } });
      assert.equal(evilOrigin.status, 403, path);
      const evilHost = await rawGet(gw.url + path, 'evil.example:4000');
      assert.equal(evilHost, 403, path);
    }
  });
});

/** A GET with a Host header fetch would not let us set. */
async function rawGet(url: string, host: string): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
