import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { api, uid } from '../admin/api.js';
import { connectClient, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { postgresRun, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { serversYaml, startServersGateway } from './setup.js';

describe('stored servers across two gateways on one PostgreSQL', { timeout: 60_000 }, () => {
  let one: CatalogServer, two: CatalogServer;
  let run: EngineRun;
  const stores: Store[] = [];
  const gateways: TestGateway[] = [];
  const clients: Client[] = [];
  let a: TestGateway, b: TestGateway;

  const gateway = async (yaml?: string) => {
    const store = await run.open();
    stores.push(store);
    const gw = await startServersGateway(store, undefined, yaml);
    gateways.push(gw);
    return gw;
  };

  before(async () => {
    [one, two] = await Promise.all([
      startCatalogServer({ name: 'one', tools: [tool('t')] }),
      startCatalogServer({ name: 'two', tools: [tool('t')] }),
    ]);
    run = await postgresRun();
    a = await gateway();
    b = await gateway();
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const g of gateways) await g.close();
    for (const s of stores) await s.close();
    await run?.cleanup();
    await stopAll([one, two]);
  });

  test('added on one, callable through the other; changed, followed; deleted, gone from both', async () => {
    const name = 'rep_' + uid();
    const made = await api(a, 'POST', '/v1/mcp/server', { server_name: name, url: one.url });
    assert.equal(made.status, 201, made.text);
    assert.ok(a.registry.has(name), 'the gateway that took the write has it before answering');
    await until(() => b.registry.has(name), 'the other gateway to load the server (NOTIFY)');
    const client = await connectClient(b.mcpUrl(`/mcp/${name}`));
    clients.push(client);
    assert.equal(textOf(await client.callTool({ name: 't', arguments: {} })), 'one:t:{}');
    assert.equal((await api(b, 'GET', `/v1/mcp/server/${made.json.server_id}`)).json.server_name, name);

    assert.equal((await api(a, 'PUT', '/v1/mcp/server', { server_id: made.json.server_id, url: two.url })).status, 202);
    await until(() => b.registry.get(name)?.config.url === two.url, 'the other gateway to follow the change');
    assert.equal(textOf(await client.callTool({ name: 't', arguments: {} })), 'two:t:{}');

    assert.equal((await api(b, 'DELETE', `/v1/mcp/server/${made.json.server_id}`)).status, 202, 'deleted through the other one');
    assert.equal(b.registry.has(name), false);
    await until(() => !a.registry.has(name), 'the first gateway to drop it');
    await assert.rejects(client.listTools(), /was removed from this gateway/);
    assert.equal((await api(a, 'GET', `/v1/mcp/server/${made.json.server_id}`)).status, 404);
  });

  test('a gateway started later loads the stored servers; a config.yaml server of the same name wins, logged', async () => {
    const name = 'clash_' + uid();
    const kept = 'kept_' + uid();
    assert.equal((await api(a, 'POST', '/v1/mcp/server', { server_name: name, url: one.url })).status, 201);
    assert.equal((await api(a, 'POST', '/v1/mcp/server', { server_name: kept, url: one.url })).status, 201);
    const c = await gateway(serversYaml(`  ${name}: { url: "${two.url}" }`));
    assert.equal(c.registry.get(name)?.config.url, two.url, 'the config.yaml definition');
    assert.equal(c.registry.get(name)?.config.origin, undefined);
    assert.equal(c.registry.get(kept)?.config.origin, 'api', 'the other stored server loaded');
    assert.ok(
      c.logs.some((l) => l.includes(name) && l.includes('config.yaml wins')),
      'the skipped stored server is logged',
    );
    const listed = (await api(c, 'GET', '/v1/mcp/server')).json.find((s: any) => s.server_name === name);
    assert.equal(listed.source, 'config');
  });
});
