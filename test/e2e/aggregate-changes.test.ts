import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { freePort } from '../fixtures/everything.js';
import { connectClient, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

describe('aggregate with changing, down and slow upstreams', () => {
  let live: CatalogServer, steady: CatalogServer, slow: CatalogServer;
  let back: CatalogServer | undefined;
  let downPort: number;
  let gw: TestGateway;
  let client: Client;
  let sampler: Client;
  const changes: number[] = [0, 0];

  before(async () => {
    [live, steady, slow] = await Promise.all([
      startCatalogServer({ name: 'live', tools: [tool('v1')] }),
      startCatalogServer({ name: 'steady', tools: [tool('s')] }),
      // Far slower than the listing timeout below: its listing can only ever time out.
      startCatalogServer({ name: 'slow', tools: [tool('late')], listDelayMs: 30_000 }),
    ]);
    downPort = await freePort();
    gw = await startTestGateway(`
toolgate_settings:
  listing_timeout_seconds: 1
mcp_servers:
  live:
    url: ${live.url}
  down:
    url: http://127.0.0.1:${downPort}/mcp
    access_groups: [outage]
  steady:
    url: ${steady.url}
  slow:
    url: ${slow.url}
`);
    client = await connectClient(gw.mcpUrl('/mcp'));
    // A client that can answer sampling gets a dedicated upstream session: the upstream then
    // announces each change on two sessions, and each client must still hear it once.
    sampler = await connectClient(gw.mcpUrl('/mcp'), { capabilities: { sampling: {} }, name: 'sampler' });
    client.setNotificationHandler('notifications/tools/list_changed', () => void changes[0]!++);
    sampler.setNotificationHandler('notifications/tools/list_changed', () => void changes[1]!++);
  });
  after(async () => {
    await client?.close();
    await sampler?.close();
    await gw?.close();
    await stopAll([live, steady, slow, back]);
  });

  it('a down and a slow server do not fail the listing; their outcome is in _meta', async () => {
    const page = await client.listTools(undefined, { cacheMode: 'bypass' });
    assert.deepEqual(
      page.tools.map((t) => t.name),
      ['live-v1', 'steady-s'],
    );
    const outcomes = (page._meta as any)['io.toolgate/servers'];
    assert.deepEqual(Object.keys(outcomes), ['live', 'down', 'steady', 'slow']);
    assert.equal(outcomes.live.ok, true);
    assert.equal(outcomes.down.ok, false);
    assert.match(outcomes.down.error, /down|ECONNREFUSED|connect/i);
    assert.equal(outcomes.slow.ok, false);
    assert.match(outcomes.slow.error, /within 1 s/);
    assert.ok(gw.logs.some((l) => l.includes('listing failed') && l.includes('"server":"slow"')));
  });

  it('calling a tool of the down server names it', async () => {
    await assert.rejects(client.callTool({ name: 'down-anything', arguments: {} }), /down/);
  });

  it('an aggregate whose every server is down still offers tools, so they can appear later', async () => {
    const c = await connectClient(gw.mcpUrl('/mcp/outage'));
    try {
      assert.ok(c.getServerCapabilities()?.tools);
      const page = await c.listTools(undefined, { cacheMode: 'bypass' });
      assert.deepEqual(page.tools, []);
      assert.equal((page._meta as any)['io.toolgate/servers'].down.ok, false);
    } finally {
      await c.close();
    }
  });

  it('the other servers keep working while one is down', async () => {
    assert.equal(textOf(await client.callTool({ name: 'steady-s', arguments: {} })), 'steady:s:{}');
  });

  it('an upstream tools/list_changed reaches each aggregate client once and the next listing shows it', async () => {
    await sampler.callTool({ name: 'live-v1', arguments: {} }); // opens the sampler's dedicated session
    await sampler.listTools(undefined, { cacheMode: 'bypass' });
    await client.listTools(undefined, { cacheMode: 'bypass' });
    await until(() => live.count('initialize') >= 2, 'the dedicated upstream session');
    live.setTools([tool('v1'), tool('v2')]);
    await until(() => changes[0]! >= 1 && changes[1]! >= 1, 'list_changed on both clients');
    const names = (await client.listTools(undefined, { cacheMode: 'bypass' })).tools.map((t) => t.name);
    assert.deepEqual(names, ['live-v1', 'live-v2', 'steady-s']);
    assert.equal(textOf(await client.callTool({ name: 'live-v2', arguments: {} })), 'live:v2:{}');
    // Both clients round-tripped after the change: a duplicate would have arrived by now.
    await sampler.ping();
    await client.ping();
    assert.deepEqual(changes, [1, 1]);
  });

  it('the SDK client cache is refreshed by our list_changed', async () => {
    live.setTools([tool('v3')]);
    await until(() => changes[0]! >= 2, 'a second list_changed');
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['live-v3', 'steady-s'],
    );
  });

  it('a server that comes back is listed again and its tools become callable', async () => {
    const before = changes[0]!;
    back = await startCatalogServer({ name: 'back', tools: [tool('again')], port: downPort });
    const names = await until(
      async () => {
        const listed = (await client.listTools(undefined, { cacheMode: 'bypass' })).tools.map((t) => t.name);
        return listed.includes('down-again') && listed;
      },
      'the server that came back to be listed',
      { every: 50 },
    );
    assert.ok(names.includes('down-again'), names.join(' '));
    assert.ok(changes[0]! > before, 'clients were told the list changed');
    assert.equal(textOf(await client.callTool({ name: 'down-again', arguments: {} })), 'back:again:{}');
  });
});
