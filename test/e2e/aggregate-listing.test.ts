import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, ListToolsResult } from '@modelcontextprotocol/client';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startEverything, type RunningEverything } from '../fixtures/everything.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

const SEP986 = /^[A-Za-z0-9_.-]{1,128}$/;
const LONG = 'summarize_the_quarterly_financial_report_for_the_board_with_charts_and_tables';
const BIG_COUNT = 3000;

async function listAll(client: Client): Promise<{ names: string[]; pages: number; meta: unknown[] }> {
  const names: string[] = [];
  const meta: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    // One page per request: listTools() without a cursor would follow every page itself.
    const page = (await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} })) as ListToolsResult;
    pages++;
    names.push(...page.tools.map((t) => t.name));
    meta.push(page._meta);
    cursor = page.nextCursor;
  } while (cursor);
  return { names, pages, meta };
}

describe('aggregate listing and calls across many upstreams', () => {
  let gw: TestGateway;
  let everythingHttp: RunningEverything;
  let ab: CatalogServer;
  let a: CatalogServer;
  let big: CatalogServer;
  let longNames: CatalogServer;
  let client: Client;

  before(async () => {
    [everythingHttp, ab, a, big, longNames] = await Promise.all([
      startEverything('streamableHttp'),
      startCatalogServer({ name: 'fixture-ab', tools: [tool('c')], instructions: 'Use c for everything.' }),
      startCatalogServer({ name: 'fixture-a', tools: [tool('b-c')] }),
      startCatalogServer({
        name: 'fixture-big',
        pageSize: 250,
        tools: Array.from({ length: BIG_COUNT }, (_, i) => tool(`t${String(i).padStart(4, '0')}`)),
      }),
      startCatalogServer({ name: 'fixture-long', tools: [tool(LONG), tool(LONG + '_v2'), tool('short')] }),
    ]);
    gw = await startTestGateway(`
mcp_servers:
  everything:${EVERYTHING_STDIO}
  ehttp:
    url: ${everythingHttp.url}
  a-b:
    url: ${ab.url}
  a:
    url: ${a.url}
  big:
    url: ${big.url}
  long:
    url: ${longNames.url}
`);
    client = await connectClient(gw.mcpUrl('/mcp'));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await stopAll([everythingHttp, ab, a, big, longNames]);
  });

  it('initialize merges capabilities, names Toolgate and labels each server instructions', () => {
    assert.equal(client.getServerVersion()?.name, 'toolgate');
    const caps = client.getServerCapabilities()!;
    assert.ok(caps.tools && caps.prompts && caps.resources, JSON.stringify(caps));
    const instructions = client.getInstructions() ?? '';
    assert.match(instructions, /\[a-b\]\nUse c for everything\./);
  });

  it('merges every server in config order, paginated with cursors across servers and the big upstream', async () => {
    const { names, pages } = await listAll(client);
    assert.ok(pages >= 3, `expected several pages for ${names.length} tools, got ${pages}`);
    assert.equal(new Set(names).size, names.length, 'no duplicates across pages');
    const firstIndex = (prefix: string) => names.findIndex((n) => n.startsWith(prefix));
    assert.ok(names.includes('everything-echo') && names.includes('ehttp-echo'));
    assert.ok(names.includes('a-b-c') || names.some((n) => n.startsWith('a-b-c_')));
    const bigNames = names.filter((n) => n.startsWith('big-'));
    assert.equal(bigNames.length, BIG_COUNT);
    assert.deepEqual(bigNames.slice(0, 3), ['big-t0000', 'big-t0001', 'big-t0002']);
    assert.equal(bigNames.at(-1), `big-t${BIG_COUNT - 1}`);
    assert.ok(
      firstIndex('everything-') < firstIndex('ehttp-') &&
        firstIndex('ehttp-') < firstIndex('big-') &&
        firstIndex('big-') < firstIndex('long-'),
    );
    for (const n of names) assert.match(n, SEP986);
    // Deterministic: a second walk gives the same order.
    assert.deepEqual((await listAll(client)).names, names);
  });

  it('reports each server outcome in _meta', async () => {
    const page = await client.listTools(undefined, { cacheMode: 'bypass' });
    const outcomes = (page._meta as Record<string, any>)['io.toolgate/servers'];
    assert.equal(outcomes.big.ok, true);
    assert.equal(outcomes.big.count, BIG_COUNT);
    assert.deepEqual(Object.keys(outcomes), ['everything', 'ehttp', 'a-b', 'a', 'big', 'long']);
  });

  it('routes a-b/c and a/b-c by exact lookup, never by splitting on the separator', async () => {
    const tools = (await listAll(client)).names;
    const fromAb = tools.filter((n) => n.startsWith('a-b-c'));
    assert.equal(fromAb.length, 2, `both a-b/c and a/b-c are exposed under distinct names: ${fromAb}`);
    const results = await Promise.all(fromAb.map((name) => client.callTool({ name, arguments: { x: name } })));
    const texts = results.map(textOf).sort();
    assert.deepEqual(
      texts.map((t) => t.split(':').slice(0, 2).join(':')),
      ['fixture-a:b-c', 'fixture-ab:c'],
    );
  });

  it('shortens long names to the 64 default, keeps them distinct and callable', async () => {
    const names = (await listAll(client)).names.filter((n) => n.startsWith('long-'));
    assert.equal(names.length, 3);
    for (const n of names) assert.ok(n.length <= 64 && SEP986.test(n), n);
    assert.ok(names.includes('long-short'));
    const shortened = names.filter((n) => n !== 'long-short');
    assert.notEqual(shortened[0], shortened[1]);
    for (const n of shortened) {
      const text = textOf(await client.callTool({ name: n, arguments: {} }));
      assert.ok(text.startsWith(`fixture-long:${LONG}`), text);
    }
  });

  it('a tools/call never lists upstream', async () => {
    await listAll(client);
    const before = big.count('tools/list');
    for (let i = 0; i < 5; i++) await client.callTool({ name: `big-t000${i}`, arguments: { x: String(i) } });
    assert.equal(big.count('tools/list'), before);
    assert.equal(big.calls.at(-1)?.name, 't0004');
  });

  it('refuses a tampered or invalid cursor with -32602', async () => {
    const page = (await client.request({ method: 'tools/list', params: {} })) as ListToolsResult;
    assert.ok(page.nextCursor);
    const c = page.nextCursor!;
    const tampered = c.slice(0, -2) + (c.endsWith('AA') ? 'BA' : 'AA');
    const sid = (client.transport as unknown as { sessionId?: string }).sessionId!;
    for (const cursor of [tampered, 'not-a-cursor', '']) {
      const res = await rawPost(gw.mcpUrl('/mcp'), JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { cursor } }), {
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      const body = res.json ?? JSON.parse(res.text.split('data: ')[1]!);
      assert.equal(body.error?.code, -32602, `${cursor}: ${res.text}`);
    }
  });

  it('an unknown tool names itself', async () => {
    await assert.rejects(client.callTool({ name: 'nope-nothing', arguments: {} }), /nope-nothing/);
  });
});
