import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

const SHARED = 'file:///shared.txt';
const exposedShared = (server: string) => `toolgate://${server}/${encodeURIComponent(SHARED)}`;

function docs(name: string, scheme: string): Parameters<typeof startCatalogServer>[0] {
  return {
    name,
    tools: [tool('t')],
    resources: [
      { uri: SHARED, name: 'shared' },
      { uri: `${scheme}://only`, name: 'only' },
    ],
    resourceTemplates: [{ uriTemplate: `${scheme}://items/{id}`, name: 'item' }],
    prompts: [{ name: 'greet', description: `greets from ${name}` }],
    instructions: `Docs of ${name}.`,
  };
}

describe('aggregate resources, prompts, completions and scope narrowing', () => {
  let r1: CatalogServer, r2: CatalogServer, plain: CatalogServer;
  let gw: TestGateway;
  let client: Client;
  const updates: string[] = [];

  before(async () => {
    [r1, r2, plain] = await Promise.all([
      startCatalogServer(docs('r1', 'one')),
      startCatalogServer(docs('r2', 'two')),
      startCatalogServer({ name: 'plain', tools: [tool('t')] }),
    ]);
    gw = await startTestGateway(`
mcp_servers:
  everything:${EVERYTHING_STDIO}
  r1:
    url: ${r1.url}
    access_groups: [docs]
  r2:
    url: ${r2.url}
    access_groups: [docs]
  plain:
    url: ${plain.url}
`);
    client = await connectClient(gw.mcpUrl('/mcp'));
    client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await stopAll([r1, r2, plain]);
  });

  it('lists resources of every server; a URI two servers claim is exposed per server in the toolgate:// form', async () => {
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.includes(exposedShared('r1')) && uris.includes(exposedShared('r2')), uris.join(' '));
    assert.ok(!uris.includes(SHARED));
    assert.ok(uris.includes('one://only') && uris.includes('two://only'));
    assert.ok(
      uris.some((u) => u.startsWith('demo://')),
      'server-everything resources are merged too',
    );
  });

  it('reads by listed URI, disambiguated URI and template, from the right server', async () => {
    const read = async (uri: string) => (await client.readResource({ uri })).contents[0] as { uri: string; text: string };
    assert.equal((await read(exposedShared('r1'))).text, `r1:${SHARED}`);
    assert.equal((await read(exposedShared('r2'))).text, `r2:${SHARED}`);
    assert.equal((await read('two://only')).text, 'r2:two://only');
    assert.equal((await read('one://items/42')).text, 'r1:one://items/42');
    assert.equal((await read('two://items/7')).text, 'r2:two://items/7');
    const demo = (await client.listResources()).resources.find((r) => r.uri.startsWith('demo://'))!;
    assert.equal((await read(demo.uri)).uri, demo.uri);
    await assert.rejects(client.readResource({ uri: 'nowhere://x' }), /nowhere:\/\/x/);
  });

  it('templates are namespaced by name and keep their uriTemplate', async () => {
    const templates = (await client.listResourceTemplates()).resourceTemplates;
    const fixture = templates.filter((t) => t.name === 'r1-item' || t.name === 'r2-item');
    assert.deepEqual(
      fixture.map((t) => t.uriTemplate),
      ['one://items/{id}', 'two://items/{id}'],
    );
  });

  it('subscribes on the owning server and maps resources/updated back to the subscribed URI', async () => {
    await client.subscribeResource({ uri: exposedShared('r2') });
    await client.subscribeResource({ uri: 'one://items/5' });
    assert.ok(r2.subscriptions.has(SHARED) && !r1.subscriptions.has(SHARED));
    assert.ok(r1.subscriptions.has('one://items/5'));
    r2.updated(SHARED);
    r1.updated('one://items/5');
    await until(() => updates.length >= 2, 'both resource updates').catch(() => {});
    assert.deepEqual(updates.sort(), [exposedShared('r2'), 'one://items/5'].sort());
    await client.unsubscribeResource({ uri: exposedShared('r2') });
    assert.ok(!r2.subscriptions.has(SHARED));
  });

  it('routes prompts/get and completion/complete by prompt name and template', async () => {
    const names = (await client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(names.includes('r1-greet') && names.includes('r2-greet'));
    const got = await client.getPrompt({ name: 'r2-greet' });
    assert.equal((got.messages[0]!.content as { text: string }).text, 'r2:greet');
    const byPrompt = await client.complete({ ref: { type: 'ref/prompt', name: 'r1-greet' }, argument: { name: 'a', value: '' } });
    assert.deepEqual(byPrompt.completion.values, ['r1:greet']);
    const byTemplate = await client.complete({
      ref: { type: 'ref/resource', uri: 'two://items/{id}' },
      argument: { name: 'id', value: '' },
    });
    assert.deepEqual(byTemplate.completion.values, ['r2:two://items/{id}']);
  });

  it('narrows by x-mcp-servers, /mcp/{a,b}, /{a,b}/mcp, ?server= and access group names', async () => {
    const serversOf = async (path: string, headers: Record<string, string> = {}) => {
      const c = await connectClient(gw.mcpUrl(path), { headers });
      try {
        const page = await c.listTools(undefined, { cacheMode: 'bypass' });
        return { servers: Object.keys((page._meta as any)?.['io.toolgate/servers'] ?? {}), names: page.tools.map((t) => t.name) };
      } finally {
        await c.close();
      }
    };
    assert.deepEqual(await serversOf('/mcp', { 'x-mcp-servers': 'plain,r1' }), { servers: ['r1', 'plain'], names: ['r1-t', 'plain-t'] });
    assert.deepEqual((await serversOf('/mcp/r2,plain')).servers, ['r2', 'plain']);
    assert.deepEqual((await serversOf('/r1,r2/mcp')).servers, ['r1', 'r2']);
    assert.deepEqual((await serversOf('/mcp?server=r2,plain')).servers, ['r2', 'plain']);
    assert.deepEqual((await serversOf('/mcp/docs')).servers, ['r1', 'r2']);
    assert.deepEqual((await serversOf('/mcp', { 'x-litellm-mcp-server': 'docs,plain' })).servers, ['r1', 'r2', 'plain']);
    // One server by name is a transparent passthrough: names untouched.
    assert.deepEqual((await serversOf('/mcp', { 'x-mcp-servers': 'plain' })).names, ['t']);
  });

  it('an unknown server or group is an error naming it and listing what exists', async () => {
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    for (const [path, headers] of [
      ['/mcp/r1,nope', {}],
      ['/mcp', { 'x-mcp-servers': 'nope' }],
    ] as const) {
      const res = await rawPost(gw.mcpUrl(path), init, headers);
      assert.equal(res.status, 404);
      assert.match(res.json.error.message, /"nope"/);
      assert.match(res.json.error.message, /everything, r1, r2, plain; access groups: docs/);
    }
    for (const [path, headers] of [
      ['/mcp/,', {}],
      ['/mcp', { 'x-mcp-servers': ' , ' }],
    ] as const) {
      const res = await rawPost(gw.mcpUrl(path), init, headers);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(headers)}`);
      assert.match(res.json.error.message, /Empty server selection; available servers: everything/);
    }
  });

  it('initialize merges instructions with a label per server and advertises subscribe', () => {
    const text = client.getInstructions() ?? '';
    assert.match(text, /\[r1\]\nDocs of r1\./);
    assert.match(text, /\[r2\]\nDocs of r2\./);
    const caps = client.getServerCapabilities()!;
    assert.equal(caps.resources?.subscribe, true);
    assert.ok(caps.completions && caps.prompts);
  });
});
