import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

const SEP986 = /^[A-Za-z0-9_.-]{1,128}$/;
const LONG = 'a_tool_name_that_is_longer_than_thirty_two_characters';

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools(undefined, { cacheMode: 'bypass' })).tools.map((t) => t.name);
}

describe('aggregate names: prefix modes, separator, length, overrides and filters', () => {
  let x: CatalogServer, y: CatalogServer, n1: CatalogServer, n2: CatalogServer, f: CatalogServer;
  let gw: TestGateway;
  let envGw: TestGateway;
  let client: Client;

  before(async () => {
    [x, y, n1, n2, f] = await Promise.all([
      startCatalogServer({ name: 'x', tools: [tool('shared'), tool('onlyx'), tool(LONG)] }),
      startCatalogServer({ name: 'y', tools: [tool('shared'), tool('onlyy')] }),
      startCatalogServer({ name: 'n1', tools: [tool('dup'), tool('n1only')] }),
      startCatalogServer({ name: 'n2', tools: [tool('dup'), tool('n2only')] }),
      startCatalogServer({ name: 'f', tools: [tool('keep'), tool('drop'), tool('other'), tool('hidden')] }),
    ]);
    gw = await startTestGateway(`
toolgate_settings:
  prefix_mode: conditional
  tool_prefix_separator: "__"
  max_tool_name_length: 32
mcp_servers:
  x:
    url: ${x.url}
  y:
    url: ${y.url}
    alias: why
    prefix_mode: always
  n1:
    url: ${n1.url}
    prefix_mode: never
  n2:
    url: ${n2.url}
    prefix_mode: never
  f:
    url: ${f.url}
    allowed_tools: [keep, F__DROP, other]
    disallowed_tools: [drop]
    tool_name_to_display_name: { keep: kept_renamed }
    tool_name_to_description: { other: "Described by the gateway" }
`);
    envGw = await startTestGateway(
      `
mcp_servers:
  x:
    url: ${x.url}
  y:
    url: ${y.url}
`,
      { MCP_TOOL_PREFIX_SEPARATOR: '.' },
    );
    client = await connectClient(gw.mcpUrl('/mcp'));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await envGw?.close();
    await stopAll([x, y, n1, n2, f]);
  });

  it('conditional prefixes only colliding names; a per-server always uses the alias and the configured separator', async () => {
    const names = await toolNames(client);
    assert.ok(names.includes('x__shared'), names.join(' '));
    assert.ok(names.includes('onlyx'));
    assert.ok(names.includes('why__shared') && names.includes('why__onlyy'));
    for (const n of names) assert.ok(SEP986.test(n) && n.length <= 32, n);
    assert.equal(textOf(await client.callTool({ name: 'x__shared', arguments: {} })), 'x:shared:{}');
    assert.equal(textOf(await client.callTool({ name: 'why__shared', arguments: {} })), 'y:shared:{}');
    assert.equal(textOf(await client.callTool({ name: 'onlyx', arguments: {} })), 'x:onlyx:{}');
  });

  it('max_tool_name_length shortens and the short name still routes', async () => {
    const names = await toolNames(client);
    const short = names.find((n) => n.startsWith('a_tool_name'));
    assert.ok(short && short.length <= 32 && short !== LONG, String(short));
    assert.equal(textOf(await client.callTool({ name: short, arguments: {} })), `x:${LONG}:{}`);
  });

  it('never mode: no prefix, a collision is reported in _meta and never shadows silently', async () => {
    const page = await client.listTools(undefined, { cacheMode: 'bypass' });
    const names = page.tools.map((t) => t.name);
    assert.ok(names.includes('n1only') && names.includes('n2only'));
    assert.equal(names.filter((n) => n === 'dup').length, 1);
    const outcomes = (page._meta as any)['io.toolgate/servers'];
    assert.deepEqual(outcomes.n2.collisions, [{ name: 'dup', exposedBy: 'n1' }]);
    assert.equal(outcomes.n1.collisions, undefined);
    assert.equal(textOf(await client.callTool({ name: 'dup', arguments: {} })), 'n1:dup:{}');
    assert.ok(gw.logs.some((l) => l.includes('name collision with prefix_mode never')));
  });

  it('display names and descriptions apply, and calls by the new name route back', async () => {
    const tools = (await client.listTools(undefined, { cacheMode: 'bypass' })).tools;
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('kept_renamed'));
    assert.ok(!names.includes('keep'));
    assert.equal(tools.find((t) => t.name === 'other')?.description, 'Described by the gateway');
    assert.equal(textOf(await client.callTool({ name: 'kept_renamed', arguments: {} })), 'f:keep:{}');
  });

  it('allowed_tools then disallowed_tools: hidden from the listing and refused at call', async () => {
    const names = await toolNames(client);
    assert.ok(!names.includes('drop') && !names.includes('hidden') && !names.includes('f__drop'));
    const before = f.calls.length;
    for (const name of ['drop', 'hidden', 'f__drop']) {
      await assert.rejects(client.callTool({ name, arguments: {} }), (err: Error) => {
        assert.match(err.message, new RegExp(`"${name}" is not allowed on server "f"`));
        return true;
      });
    }
    assert.equal(f.calls.length, before, 'a refused call never reaches the upstream');
  });

  it('single-server passthrough applies the same filters and overrides', async () => {
    const one = await connectClient(gw.mcpUrl('/mcp/f'));
    try {
      const tools = (await one.listTools()).tools;
      assert.deepEqual(
        tools.map((t) => t.name),
        ['kept_renamed', 'other'],
      );
      assert.equal(tools[1]!.description, 'Described by the gateway');
      assert.equal(textOf(await one.callTool({ name: 'kept_renamed', arguments: {} })), 'f:keep:{}');
      for (const name of ['drop', 'hidden']) {
        await assert.rejects(one.callTool({ name, arguments: {} }), new RegExp(`"${name}" is not allowed on server "f"`));
      }
      await assert.rejects(one.callTool({ name: 'keep', arguments: {} }), /display name/);
    } finally {
      await one.close();
    }
  });

  it('a server without filters passes through untouched', async () => {
    const one = await connectClient(gw.mcpUrl('/mcp/x'));
    try {
      assert.deepEqual(
        (await one.listTools()).tools.map((t) => t.name),
        ['shared', 'onlyx', LONG],
      );
    } finally {
      await one.close();
    }
  });

  it('MCP_TOOL_PREFIX_SEPARATOR sets the separator when the config does not', async () => {
    const c = await connectClient(envGw.mcpUrl('/mcp'));
    try {
      const names = await toolNames(c);
      assert.deepEqual(names, ['x.shared', 'x.onlyx', `x.${LONG}`, 'y.shared', 'y.onlyy']);
      assert.equal(textOf(await c.callTool({ name: 'y.onlyy', arguments: {} })), 'y:onlyy:{}');
    } finally {
      await c.close();
    }
  });
});
