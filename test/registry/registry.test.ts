import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/types.js';
import { ServerRegistry, type RegistryEvent } from '../../src/registry/registry.js';
import type { Upstream } from '../../src/upstream/upstream.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, rawPost, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/** A server definition as config.yaml would give it. */
function defined(name: string, url: string, extra = ''): ServerConfig {
  return parseConfig(`mcp_servers:\n  ${name}:\n    url: "${url}"\n${extra}`, 'runtime.yaml', {}).servers[0]!;
}

describe('server registry: its own API', () => {
  /** Stand-in Upstreams: the registry only creates, hands out and closes them. */
  const made: Array<{ name: string; config: ServerConfig; closed: boolean }> = [];
  const registry = new ServerRegistry((config) => {
    const u = { name: config.name, config, closed: false, close: async () => void (u.closed = true) };
    made.push(u);
    return u as unknown as Upstream;
  });
  const events: Array<{ type: string; name: string; current?: Upstream }> = [];
  registry.subscribe((e: RegistryEvent) => events.push({ type: e.type, name: e.name, current: registry.get(e.name) }));

  it('adds, changes and removes, telling subscribers after the change is visible', async () => {
    const a = registry.add(defined('a', 'http://127.0.0.1:9/a'));
    registry.add(defined('b', 'http://127.0.0.1:9/b'));
    assert.deepEqual(registry.names(), ['a', 'b']);
    const a2 = await registry.change(defined('a', 'http://127.0.0.1:9/a2'));
    assert.notEqual(a2, a);
    assert.equal(registry.get('a'), a2);
    assert.equal(made[0]!.closed, true, 'the replaced Upstream is closed');
    assert.deepEqual(registry.names(), ['a', 'b'], 'a change keeps the order');
    await registry.remove('b');
    assert.equal(registry.get('b'), undefined);
    assert.equal(made[1]!.closed, true);
    assert.deepEqual(
      events.map((e) => [e.type, e.name]),
      [
        ['added', 'a'],
        ['added', 'b'],
        ['changed', 'a'],
        ['removed', 'b'],
      ],
    );
    assert.equal(events[2]!.current, a2, 'listeners see the new definition');
    assert.equal(events[3]!.current, undefined);
    assert.deepEqual(
      registry.configs().map((c) => c.url),
      ['http://127.0.0.1:9/a2'],
    );
  });

  it('refuses a duplicate, an unknown server and an unusable name with messages naming the fix', async () => {
    assert.throws(() => registry.add(defined('a', 'http://127.0.0.1:9/x')), /"a" already exists; change it instead/);
    await assert.rejects(registry.change(defined('zz', 'http://127.0.0.1:9/x')), /Unknown MCP server "zz"; known servers: a/);
    await assert.rejects(registry.remove('zz'), /Unknown MCP server "zz"/);
    assert.throws(() => registry.add({ ...defined('ok', 'http://127.0.0.1:9/x'), name: 'bad name' }), /cannot be used in URLs/);
    assert.deepEqual(registry.names(), ['a'], 'nothing was lost');
  });
});

describe('server registry: servers added, changed and removed at runtime, through the gateway', { timeout: 60_000 }, () => {
  let alpha: CatalogServer, beta: CatalogServer, gamma: CatalogServer, gamma2: CatalogServer;
  let gw: TestGateway;
  let agg: Client;
  let one: Client | undefined;
  let changed = 0;

  before(async () => {
    [alpha, beta, gamma, gamma2] = await Promise.all([
      startCatalogServer({ name: 'alpha', tools: [tool('a')] }),
      startCatalogServer({ name: 'beta', tools: [tool('b')] }),
      startCatalogServer({ name: 'gamma', tools: [tool('g1')] }),
      startCatalogServer({ name: 'gamma2', tools: [tool('g2')] }),
    ]);
    gw = await startTestGateway(`
mcp_servers:
  alpha: { url: "${alpha.url}" }
  beta: { url: "${beta.url}" }
`);
    agg = await connectClient(gw.mcpUrl('/mcp'));
    agg.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
    assert.deepEqual(
      (await agg.listTools()).tools.map((t) => t.name),
      ['alpha-a', 'beta-b'],
    );
  });

  after(async () => {
    await agg?.close().catch(() => {});
    await one?.close().catch(() => {});
    await gw?.close();
    await stopAll([alpha, beta, gamma, gamma2]);
  });

  it('a server added at runtime is listed and called on /mcp/{server} and on /mcp, whose clients hear list_changed', async () => {
    const before = changed;
    gw.registry.add(defined('gamma', gamma.url));
    await until(() => changed > before, 'notifications/tools/list_changed on the open /mcp session');
    assert.deepEqual(
      (await agg.listTools()).tools.map((t) => t.name),
      ['alpha-a', 'beta-b', 'gamma-g1'],
    );
    assert.equal(textOf(await agg.callTool({ name: 'gamma-g1', arguments: {} })), 'gamma:g1:{}');
    one = await connectClient(gw.mcpUrl('/mcp/gamma'));
    assert.deepEqual(
      (await one.listTools()).tools.map((t) => t.name),
      ['g1'],
    );
    assert.equal(textOf(await one.callTool({ name: 'g1', arguments: { x: '1' } })), 'gamma:g1:{"x":"1"}');
    // Readiness reads the registry: the new server is there.
    const ready = await (await fetch(gw.url + '/health/readiness')).json();
    assert.ok(ready.servers.gamma, JSON.stringify(ready));
  });

  it('a changed server: open sessions move to the new definition at their next request', async () => {
    const before = changed;
    await gw.registry.change(defined('gamma', gamma2.url));
    await until(() => changed > before, 'list_changed after the change');
    assert.deepEqual(
      (await one!.listTools()).tools.map((t) => t.name),
      ['g2'],
    );
    assert.equal(textOf(await one!.callTool({ name: 'g2', arguments: {} })), 'gamma2:g2:{}');
    assert.deepEqual(
      (await agg.listTools()).tools.map((t) => t.name),
      ['alpha-a', 'beta-b', 'gamma-g2'],
    );
    assert.equal(textOf(await agg.callTool({ name: 'gamma-g2', arguments: {} })), 'gamma2:g2:{}');
  });

  it('a removed server: its sessions get an error naming it, and it leaves /mcp', async () => {
    const before = changed;
    await gw.registry.remove('gamma');
    await until(() => changed > before, 'list_changed after the removal');
    // The SDK quotes the HTTP body it got (404: the session's endpoint is gone), escaping its quotes.
    await assert.rejects(one!.listTools(), /MCP server \\?"gamma\\?" was removed from this gateway; available servers: alpha, beta/);
    assert.deepEqual(
      (await agg.listTools()).tools.map((t) => t.name),
      ['alpha-a', 'beta-b'],
    );
    await assert.rejects(agg.callTool({ name: 'gamma-g2', arguments: {} }), /Unknown tool "gamma-g2"/);
    const fresh = await rawPost(
      gw.mcpUrl('/mcp/gamma'),
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    );
    assert.equal(fresh.status, 404);
    assert.match(fresh.json.error.message, /MCP server "gamma" was removed from this gateway; available servers: alpha, beta/);
    // The other servers kept serving throughout.
    assert.equal(textOf(await agg.callTool({ name: 'alpha-a', arguments: {} })), 'alpha:a:{}');
  });
});
