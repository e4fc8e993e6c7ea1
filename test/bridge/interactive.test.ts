import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { MAIN } from '../helpers/cli.js';
import { EVERYTHING_STDIO, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { until, within } from '../helpers/within.js';

const YAML = (blocker: CatalogServer) => `mcp_servers:\n  everything:${EVERYTHING_STDIO}\n  blocker:\n    url: "${blocker.url}"\n`;
const ROOTS = [{ uri: 'file:///tmp/bridge-root', name: 'bridge-root' }];

/**
 * `toolgate bridge` in front of the aggregate `/mcp`, for what flows the other way or out of band:
 * a client's cancellation reaching the server, the server's elicitation and roots requests reaching the
 * client, and list_changed when a server's tools change. Both protocol eras.
 */
describe('toolgate bridge: cancellation, elicitation, roots and list_changed', { timeout: 180_000 }, () => {
  let gw: TestGateway;
  let blocker: CatalogServer;

  before(async () => {
    blocker = await startCatalogServer({ name: 'blocker', tools: [tool('block'), tool('quick')] });
    gw = await startTestGateway(YAML(blocker));
  });
  after(async () => {
    await gw?.close();
    await blocker?.stop();
  });

  async function bridgeClient(mode: 'legacy' | { pin: '2026-07-28' }) {
    const seen = { elicitation: 0, roots: 0, toolsChanged: 0 };
    const client = new Client(
      { name: 'bridge-interactive', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} }, roots: { listChanged: true } }, versionNegotiation: { mode } },
    );
    client.setRequestHandler('elicitation/create', async () => {
      seen.elicitation++;
      return { action: 'accept', content: { name: 'Grace Hopper' } };
    });
    client.setRequestHandler('roots/list', async () => {
      seen.roots++;
      return { roots: ROOTS };
    });
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      seen.toolsChanged++;
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', MAIN, 'bridge', '--url', gw.url],
      env: { PATH: process.env.PATH ?? '', TOOLGATE_API_KEY: TEST_KEY },
      stderr: 'ignore',
    });
    try {
      // A hang guard, not a timing check: the child's tsx start can be slow on a loaded machine.
      await within(client.connect(transport), 'the bridge to connect', 90_000);
    } catch (err) {
      await transport.close();
      throw err;
    }
    return { client, seen };
  }

  it('2026-07-28: a listen survives a gateway restart: reopened, told lists may have changed, and hears the next change', async () => {
    const { client, seen } = await bridgeClient({ pin: '2026-07-28' });
    try {
      const sub = await client.listen({ toolsListChanged: true });
      const port = Number(new URL(gw.url).port);
      await gw.close();
      gw = await startTestGateway(YAML(blocker), {}, port);
      // The reopened listen first says that lists may have changed while it was down...
      await until(() => seen.toolsChanged > 0, 'list_changed after the listen was reopened');
      const after = seen.toolsChanged;
      // ...and then carries the real changes of the new gateway's servers.
      blocker.setTools([tool('block'), tool('quick'), tool('after_restart')]);
      await until(() => seen.toolsChanged > after, 'list_changed from the restarted gateway');
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'blocker-after_restart'));
      await sub.close();
    } finally {
      await client.close();
    }
  });

  for (const mode of ['legacy', { pin: '2026-07-28' }] as const) {
    const era = mode === 'legacy' ? '2025-11-25' : '2026-07-28';
    it(`${era}: a cancelled call is cancelled upstream; elicitation and roots reach the client; list_changed is relayed`, async () => {
      const { client, seen } = await bridgeClient(mode);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), era);

        const cancelledBefore = blocker.cancelled.length;
        const callsBefore = blocker.calls.length;
        const abort = new AbortController();
        const call = client.callTool({ name: 'blocker-block', arguments: {} }, { signal: abort.signal });
        await until(() => blocker.calls.length > callsBefore, 'the call to reach the server');
        abort.abort('changed my mind');
        await assert.rejects(call);
        await until(() => blocker.cancelled.length > cancelledBefore, 'notifications/cancelled to reach the server');
        // The session is still usable after a cancellation.
        assert.match(textOf(await client.callTool({ name: 'blocker-quick', arguments: {} })), /blocker:quick/);

        const elicited = await client.callTool({ name: 'everything-trigger-elicitation-request', arguments: {} });
        assert.equal(seen.elicitation, 1);
        assert.match(textOf(elicited), /Grace Hopper/);

        const roots = await client.callTool({ name: 'everything-get-roots-list', arguments: {} });
        assert.ok(seen.roots > 0);
        assert.match(textOf(roots), /file:\/\/\/tmp\/bridge-root/);

        const changedBefore = seen.toolsChanged;
        // A 2025 client hears list changes unsolicited; a 2026-07-28 client asks for them with a listen.
        const sub = era === '2026-07-28' ? await client.listen({ toolsListChanged: true }) : undefined;
        if (sub) assert.equal(sub.honoredFilter.toolsListChanged, true);
        const fresh = `fresh_${era.replaceAll('-', '_')}`;
        blocker.setTools([tool('block'), tool('quick'), tool(fresh)]);
        await until(() => seen.toolsChanged > changedBefore, 'notifications/tools/list_changed through the bridge');
        await until(async () => (await client.listTools()).tools.some((t) => t.name === `blocker-${fresh}`), 'the new tool to be listed');
        await sub?.close();
      } finally {
        await client.close();
      }
    });
  }
});
