import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Names a client may send that a plain-object lookup would find on Object.prototype. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

/** The JSON-RPC answer of a POST, whether it came as JSON or as one SSE event. */
function answer(r: { json: any; text: string }): any {
  return r.json ?? JSON.parse(r.text.split('data: ')[1]!);
}

describe('client strings in the router: never looked up in plain objects', () => {
  let a: CatalogServer, b: CatalogServer;
  let gw: TestGateway;
  let sid: string;
  const post = (body: unknown) =>
    rawPost(gw.mcpUrl('/mcp'), JSON.stringify(body), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });

  before(async () => {
    [a, b] = await Promise.all([
      startCatalogServer({ name: 'a', tools: [tool('t')], resources: [{ uri: 'file:///a', name: 'a' }] }),
      startCatalogServer({ name: 'b', tools: [tool('t')], resources: [{ uri: 'file:///b', name: 'b' }] }),
    ]);
    gw = await startTestGateway(`
mcp_servers:
  a: { url: "${a.url}" }
  b: { url: "${b.url}" }
`);
    const init = await rawPost(
      gw.mcpUrl('/mcp'),
      JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    );
    assert.equal(init.status, 200, init.text);
    sid = init.headers.get('mcp-session-id')!;
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  });

  after(async () => {
    await gw?.close();
    await stopAll([a, b]);
  });

  it('a method named like an Object.prototype member is -32601 on the aggregate, not a listing of "undefined"', async () => {
    for (const [i, method] of PROTOTYPE_KEYS.entries()) {
      const r = await post({ jsonrpc: '2.0', id: 10 + i, method });
      const body = answer(r);
      assert.equal(body.error?.code, -32601, `${method}: ${r.text}`);
      assert.equal(body.result, undefined);
    }
  });

  it('a tool, prompt or resource named like an Object.prototype member is unknown, not found on a prototype', async () => {
    for (const [i, name] of PROTOTYPE_KEYS.entries()) {
      const call = answer(await post({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name, arguments: {} } }));
      assert.equal(call.error?.code, -32602, JSON.stringify(call));
      assert.match(call.error.message, /Unknown tool/);
      const read = answer(await post({ jsonrpc: '2.0', id: 200 + i, method: 'resources/read', params: { uri: name } }));
      assert.equal(read.error?.code, -32602, JSON.stringify(read));
    }
  });

  it("an unknown resource's -32602 carries data.uri (SEP-2164)", async () => {
    const uri = 'file:///nowhere';
    const body = answer(await post({ jsonrpc: '2.0', id: 300, method: 'resources/read', params: { uri } }));
    assert.equal(body.error?.code, -32602, JSON.stringify(body));
    assert.match(body.error.message, /Unknown resource "file:\/\/\/nowhere"/);
    assert.deepEqual(body.error.data, { uri });
  });
});
