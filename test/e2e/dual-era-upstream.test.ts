import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { connectEraClient, type EraClient } from '../helpers/era-clients.js';
import { startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

/**
 * A dual-era upstream (the conformance fixture: 2025 sessions and 2026-07-28 stateless on one URL)
 * announces list changes only on its 2026 `subscriptions/listen` streams, and offers
 * `test_stateless_only` to 2026 clients only. Through the gateway, a 2026 client must see that
 * server as it would directly: on /mcp/{server} and on the aggregate /mcp.
 */
describe('a dual-era upstream seen by 2026-07-28 clients', () => {
  let fixture: RunningConformanceServer;
  /** A second server, so that /mcp is an aggregate (one server in scope is a passthrough). */
  let spare: RunningConformanceServer;
  let gw: TestGateway;
  const clients: EraClient[] = [];
  const connect = async (path: string, kind: 'v2-pinned' | 'v2-legacy' = 'v2-pinned') => {
    const c = await connectEraClient(kind, gw.mcpUrl(path), false);
    clients.push(c);
    return c;
  };

  before(async () => {
    [fixture, spare] = await Promise.all([startConformanceServer({ port: 0 }), startConformanceServer({ port: 0 })]);
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${fixture.url}\n  spare:\n    url: ${spare.url}\n`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await Promise.all([fixture?.stop(), spare?.stop()]);
  });

  for (const path of ['/mcp/fixture', '/mcp']) {
    it(`a listen on ${path} hears the tool changes the server announces only on its own 2026 listen`, async () => {
      const client = await connect(path);
      assert.equal(client.version, '2026-07-28');
      // The aggregate announces changes of what it listed: list once, as a client does before it cares.
      await client.listTools();
      const changed = await client.watchToolsChanged();
      const trigger = path === '/mcp' ? 'fixture-test_trigger_tool_change' : 'test_trigger_tool_change';
      assert.match(textOf(await client.callTool(trigger)), /tool generation/);
      await within(changed(), `notifications/tools/list_changed on the ${path} listen`);
      assert.equal(gw.upstreams.get('fixture')!.speaksLegacy, true, 'the server serves 2025 sessions too');
    });
  }

  it('lists and calls on /mcp what the server offers 2026 clients only, and keeps it from 2025 clients', async () => {
    const modern = await connect('/mcp');
    const tools = await modern.listTools();
    assert.ok(tools.includes('fixture-test_stateless_only'), tools.join(', '));
    assert.match(textOf(await modern.callTool('fixture-test_stateless_only')), /served to a 2026-07-28 client/);
    // The server's own 2026 answer, one server in scope: the aggregate must agree with it.
    const direct = await connect('/mcp/fixture');
    assert.ok((await direct.listTools()).includes('test_stateless_only'));

    const legacy = await connect('/mcp', 'v2-legacy');
    assert.match(String(legacy.version), /^2025-/);
    const legacyTools = await legacy.listTools();
    assert.ok(legacyTools.includes('fixture-test_simple_text'), legacyTools.join(', '));
    assert.ok(!legacyTools.includes('fixture-test_stateless_only'), 'a 2025 session of the server does not offer it');
  });
});
