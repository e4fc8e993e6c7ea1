import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { api } from '../admin/api.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

/**
 * The policy stage through the real edge, with virtual keys whose grants differ, made through the
 * management API and resolved by the identity snapshot as in production.
 */
const GRANTS: Record<string, Record<string, unknown>> = {
  // Only alpha, and of alpha only t1.
  'sk-alpha-t1-access-e2e': { mcp_servers: ['alpha'], mcp_tool_permissions: { alpha: ['t1'] } },
  // alpha, beta and gamma, of alpha only t1.
  'sk-agg-access-e2e-test': { mcp_servers: ['alpha', 'beta', 'gamma'], mcp_tool_permissions: { alpha: ['t1'] } },
};

const MANY = 1001;

describe('access: what a caller may use, listed and called alike', { timeout: 60_000 }, () => {
  let alpha: CatalogServer;
  let beta: CatalogServer;
  let gamma: CatalogServer;
  let gw: TestGateway;
  const clients: Client[] = [];
  const url = (path = '/mcp') => new URL(gw.url + path);
  const connect = async (path: string, key: string) => {
    const c = await connectClient(url(path), { key });
    clients.push(c);
    return c;
  };

  before(async () => {
    alpha = await startCatalogServer({ name: 'alpha', tools: [tool('t1'), tool('t2')], prompts: [{ name: 'p1' }] });
    // Enough tools that the aggregate pages, so cursors can be tried across callers.
    beta = await startCatalogServer({ name: 'beta', tools: Array.from({ length: MANY }, (_, i) => tool(`b${i}`)) });
    gamma = await startCatalogServer({ name: 'gamma', tools: [tool('search')] });
    const yaml = `
mcp_servers:
  alpha: { url: "${alpha.url}" }
  beta: { url: "${beta.url}" }
  gamma:
    url: "${gamma.url}"
    allowed_params: { search: [x] }
`;
    gw = await startTestGateway(yaml);
    for (const [key, grants] of Object.entries(GRANTS)) {
      // The shared test store may hold the key from an earlier file's run of this suite: replace it.
      await api(gw, 'POST', '/key/delete', { keys: [key] });
      const made = await api(gw, 'POST', '/key/generate', { key, object_permission: grants });
      assert.equal(made.status, 200, made.text);
    }
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await gw?.close();
    await stopAll([alpha, beta, gamma]);
  });

  it('a server the caller may not use does not exist for it: 404 naming only the servers it may use', async () => {
    for (const path of ['/mcp/beta', '/mcp/beta,alpha', '/mcp/nope']) {
      const r = await rawPost(url(path), init(1), { authorization: 'Bearer sk-alpha-t1-access-e2e' });
      assert.equal(r.status, 404, path);
      assert.match(r.json.error.message, /available servers: alpha$/, path);
      assert.doesNotMatch(r.json.error.message, /gamma/);
    }
    const viaHeader = await rawPost(url(), init(1), { authorization: 'Bearer sk-alpha-t1-access-e2e', 'x-mcp-servers': 'beta' });
    assert.equal(viaHeader.status, 404);
    // The master key selects it fine.
    assert.equal((await rawPost(url('/mcp/beta'), init(1))).status, 200);
  });

  it('/mcp holds only the servers the caller may use; a hidden tool is listed nowhere and refused as unknown', async () => {
    const c = await connect('/mcp', 'sk-alpha-t1-access-e2e');
    // One server left: /mcp is a passthrough to alpha, names untouched.
    assert.deepEqual(
      (await c.listTools()).tools.map((t) => t.name),
      ['t1'],
    );
    assert.match(JSON.stringify(await c.callTool({ name: 't1', arguments: {} })), /alpha:t1/);
    await assert.rejects(c.callTool({ name: 't2', arguments: {} }), /Unknown tool "t2"/);
    assert.equal(alpha.calls.filter((p) => p.name === 't2').length, 0, 'the refused call never reached the server');
    // Prompts of a granted server are not restricted by tool grants.
    assert.deepEqual(
      (await c.listPrompts()).prompts.map((p) => p.name),
      ['p1'],
    );
  });

  it('in the aggregate, each caller lists and calls exactly its own tools', async () => {
    const limited = await connect('/mcp/alpha,gamma', 'sk-agg-access-e2e-test');
    const master = await connect('/mcp/alpha,gamma', TEST_KEY);
    assert.deepEqual(
      (await limited.listTools()).tools.map((t) => t.name),
      ['alpha-t1', 'gamma-search'],
    );
    assert.deepEqual(
      (await master.listTools()).tools.map((t) => t.name),
      ['alpha-t1', 'alpha-t2', 'gamma-search'],
    );
    await assert.rejects(limited.callTool({ name: 'alpha-t2', arguments: {} }), /Unknown tool "alpha-t2"/);
    assert.match(JSON.stringify(await master.callTool({ name: 'alpha-t2', arguments: {} })), /alpha:t2/);
  });

  it('a cursor issued to one caller is refused to a caller with other grants on the same scope', async () => {
    const master = await connect('/mcp/alpha,beta', TEST_KEY);
    const limited = await connect('/mcp/alpha,beta', 'sk-agg-access-e2e-test');
    // One page per request: listTools() without a cursor would follow every page itself.
    const list = (c: Client, cursor?: string) =>
      c.request({ method: 'tools/list', params: cursor ? { cursor } : {} }) as Promise<{
        tools: Array<{ name: string }>;
        nextCursor?: string;
      }>;
    const page = await list(master);
    assert.equal(page.tools.length, 1000);
    assert.ok(page.nextCursor);
    assert.equal((await list(master, page.nextCursor)).tools.length, MANY + 2 - 1000);
    await assert.rejects(list(limited, page.nextCursor), /Invalid cursor/);
    // Its own first page is its own view: alpha-t2 is not in it.
    const own = await list(limited);
    assert.ok(!own.tools.some((t) => t.name === 'alpha-t2'));
    assert.equal((await list(limited, own.nextCursor)).tools.length, MANY + 1 - 1000);
  });

  it('allowed_params: a call with other argument names is refused, naming the parameters allowed, on both routers', async () => {
    for (const [path, name] of [
      ['/mcp/gamma', 'search'],
      ['/mcp/alpha,gamma', 'gamma-search'],
    ] as const) {
      const c = await connect(path, TEST_KEY);
      assert.match(JSON.stringify(await c.callTool({ name, arguments: { x: 'ok' } })), /gamma:search/);
      await assert.rejects(
        c.callTool({ name, arguments: { x: 'ok', limit: 5 } }),
        /Parameters \['limit'\] are not allowed for tool .*search\. Allowed parameters: \['x'\]/,
      );
    }
    assert.ok(!gamma.calls.some((p) => JSON.stringify(p.arguments).includes('limit')), 'no refused call reached the server');
  });
});

function init(id: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
}
