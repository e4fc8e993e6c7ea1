import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeyResolver } from '../../src/caller/keys.js';
import { listenLocal } from '../fixtures/listen.js';
import { rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

/**
 * The error catalogue: each kind of upstream failure reaches the client with its own documented
 * JSON-RPC code (they were all -32000), and the message names the server.
 */

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
});

describe('error catalogue: upstream failures get distinct codes', () => {
  let gw: TestGateway;
  let stop: () => Promise<void>;

  before(async () => {
    const { server, port } = await listenLocal(async (req, res) => {
      req.resume();
      if (req.url === '/unauthorized') return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('no');
      if (req.url === '/status') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not MCP</html>');
    });
    stop = () => new Promise((r) => server.close(() => r()));
    const base = `http://127.0.0.1:${port}`;
    gw = await startTestGateway(
      `mcp_servers:\n  locked:\n    url: ${base}/unauthorized\n  busy:\n    url: ${base}/status\n  html:\n    url: ${base}/html\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await stop?.();
  });

  for (const [server, code, data] of [
    ['locked', -32030, undefined],
    ['busy', -32032, { status: 503 }],
    ['html', -32031, undefined],
  ] as const) {
    it(`${server}: ${code}`, async () => {
      // While the upstream backs off after the gateway's own failed warm-up, the answer is -32000
      // "unreachable (next attempt in 1 s)"; the next real attempt shows the failure's own class.
      let r = await rawPost(gw.mcpUrl(`/mcp/${server}`), INIT);
      for (let i = 0; i < 100 && r.json?.error?.code === -32000; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await rawPost(gw.mcpUrl(`/mcp/${server}`), INIT);
      }
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.error?.code, code, r.text);
      assert.match(r.json.error.message, new RegExp(server));
      if (data) assert.deepEqual(r.json.error.data, data);
    });
  }
});

describe('presented-key memo', () => {
  it('remembers only keys that resolved, and stays bounded', () => {
    const keys = new KeyResolver(TEST_KEY);
    for (let i = 0; i < 5000; i++) assert.equal(keys.resolve({ authorization: `Bearer sk-random-${i}` }), undefined);
    assert.equal(keys.memoSize, 0, 'random wrong keys never enter the memo');
    const a = keys.resolve({ authorization: `Bearer ${TEST_KEY}` });
    const b = keys.resolve({ 'x-litellm-api-key': TEST_KEY });
    assert.ok(a?.isMaster);
    assert.equal(b, a, 'the second resolution comes from the memo');
    assert.equal(keys.memoSize, 1);
    keys.forget();
    assert.equal(keys.memoSize, 0);
    assert.ok(keys.resolve({ authorization: `Bearer ${TEST_KEY}` })?.isMaster);
  });
});
