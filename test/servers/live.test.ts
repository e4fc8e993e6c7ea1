import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { api, uid } from '../admin/api.js';
import { connectClient, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { embeddedRun, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { EVERYTHING_JS, serversYaml, startServersGateway } from './setup.js';

describe('servers registered through the API are live without a restart', { timeout: 90_000 }, () => {
  let steady: CatalogServer, first: CatalogServer, second: CatalogServer;
  let run: EngineRun;
  let store: Store;
  let gw: TestGateway;
  let agg: Client;
  let bystander: Client;
  let aggChanged = 0;
  let bystanderNotes = 0;
  const clients: Client[] = [];

  before(async () => {
    [steady, first, second] = await Promise.all([
      startCatalogServer({ name: 'steady', tools: [tool('s')] }),
      startCatalogServer({ name: 'first', tools: [tool('f')] }),
      startCatalogServer({ name: 'second', tools: [tool('n')] }),
    ]);
    run = await embeddedRun();
    store = await run.open();
    gw = await startServersGateway(store, undefined, serversYaml(`  steady: { url: "${steady.url}" }`));
    agg = await connectClient(gw.mcpUrl('/mcp'));
    agg.setNotificationHandler('notifications/tools/list_changed', () => void aggChanged++);
    bystander = await connectClient(gw.mcpUrl('/mcp/steady'));
    bystander.fallbackNotificationHandler = async () => void bystanderNotes++;
    assert.equal(textOf(await bystander.callTool({ name: 's', arguments: {} })), 'steady:s:{}');
  });
  after(async () => {
    for (const c of [agg, bystander, ...clients]) await c?.close().catch(() => {});
    await gw?.close();
    await store?.close();
    await run?.cleanup();
    await stopAll([steady, first, second]);
  });

  test('added, changed and removed: aggregate clients hear list_changed, sessions follow, a deleted server is named', async () => {
    const name = 'live_' + uid();
    let seen = aggChanged;
    const made = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: first.url });
    assert.equal(made.status, 201, made.text);
    await until(() => aggChanged > seen, 'list_changed on /mcp after the server was added');
    assert.ok((await agg.listTools()).tools.some((t) => t.name === `${name}-f`));
    assert.equal(textOf(await agg.callTool({ name: `${name}-f`, arguments: {} })), 'first:f:{}');

    const one = await connectClient(gw.mcpUrl(`/mcp/${name}`));
    clients.push(one);
    assert.equal(textOf(await one.callTool({ name: 'f', arguments: {} })), 'first:f:{}');

    seen = aggChanged;
    const put = await api(gw, 'PUT', '/v1/mcp/server', { server_id: made.json.server_id, url: second.url });
    assert.equal(put.status, 202, put.text);
    await until(() => aggChanged > seen, 'list_changed on /mcp after the server changed');
    assert.equal(textOf(await one.callTool({ name: 'n', arguments: {} })), 'second:n:{}', 'the same session, the new definition');

    seen = aggChanged;
    assert.equal((await api(gw, 'DELETE', `/v1/mcp/server/${made.json.server_id}`)).status, 202);
    await until(() => aggChanged > seen, 'list_changed on /mcp after the server was deleted');
    assert.ok(!(await agg.listTools()).tools.some((t) => t.name.startsWith(name)));
    await assert.rejects(one.listTools(), new RegExp(`MCP server \\\\?"${name}\\\\?" was removed from this gateway`));
  });

  test('a stdio server registered through the API runs and answers end to end', async () => {
    const name = 'stdio_' + uid();
    const made = await api(gw, 'POST', '/v1/mcp/server', {
      server_name: name,
      transport: 'stdio',
      command: 'node',
      args: [EVERYTHING_JS, 'stdio'],
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.command, 'node');
    const client = await connectClient(gw.mcpUrl(`/mcp/${name}`));
    clients.push(client);
    const out = await client.callTool({ name: 'echo', arguments: { message: 'through stdio' } });
    assert.match(textOf(out), /through stdio/);
    assert.equal((await api(gw, 'DELETE', `/v1/mcp/server/${made.json.server_id}`)).status, 202);
  });

  test('clients of untouched servers noticed nothing', async () => {
    assert.equal(textOf(await bystander.callTool({ name: 's', arguments: {} })), 'steady:s:{}');
    assert.equal(bystanderNotes, 0, 'no notification reached the client of an untouched server');
    assert.equal(steady.count('initialize'), 1, 'its upstream session was never reopened');
  });
});
