import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startEverything, type RunningEverything } from '../fixtures/everything.js';
import { connectClient, EVERYTHING_STDIO, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

const ROOT = 'file:///tmp/toolgate-aggregate-root';

describe('progress, cancellation, sampling, elicitation and roots through the aggregate', () => {
  let gw: TestGateway;
  let everythingHttp: RunningEverything;
  let blocker: CatalogServer;
  let client: Client;
  const seen = { sampling: 0, elicitation: 0, roots: 0 };

  before(async () => {
    [everythingHttp, blocker] = await Promise.all([
      startEverything('streamableHttp'),
      startCatalogServer({ name: 'blocker', tools: [tool('block'), tool('quick')] }),
    ]);
    gw = await startTestGateway(`
mcp_servers:
  everything:${EVERYTHING_STDIO}
  ehttp:
    url: ${everythingHttp.url}
  blocker:
    url: ${blocker.url}
`);
    client = await connectClient(gw.mcpUrl('/mcp'), {
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
    });
    client.setRequestHandler('sampling/createMessage', async (req) => {
      seen.sampling++;
      const last = req.params.messages.at(-1)?.content as { text?: string } | undefined;
      return { model: 'aggregate-model', role: 'assistant', content: { type: 'text', text: `sampled<${last?.text ?? ''}>` } };
    });
    client.setRequestHandler('elicitation/create', async () => {
      seen.elicitation++;
      return { action: 'accept', content: { name: 'Grace Hopper' } };
    });
    client.setRequestHandler('roots/list', async () => {
      seen.roots++;
      return { roots: [{ uri: ROOT, name: 'root' }] };
    });
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await stopAll([everythingHttp, blocker]);
  });

  it('lists the capability-dependent tools of both server-everything upstreams', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const prefix of ['everything', 'ehttp']) {
      for (const t of ['trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list'])
        assert.ok(names.includes(`${prefix}-${t}`), `${prefix}-${t}`);
    }
  });

  for (const prefix of ['everything', 'ehttp']) {
    it(`${prefix}: sampling and elicitation reach the client and come back`, async () => {
      const s = await client.callTool({ name: `${prefix}-trigger-sampling-request`, arguments: { prompt: `p-${prefix}`, maxTokens: 10 } });
      assert.match(textOf(s), new RegExp(`sampled<[^>]*p-${prefix}>`));
      const e = await client.callTool({ name: `${prefix}-trigger-elicitation-request`, arguments: {} });
      assert.match(textOf(e), /Grace Hopper/);
    });

    it(`${prefix}: roots/list is answered by the client`, async () => {
      const before = seen.roots;
      const r = await client.callTool({ name: `${prefix}-get-roots-list`, arguments: {} });
      assert.ok(seen.roots > before || textOf(r).includes(ROOT));
      assert.match(textOf(r), /toolgate-aggregate-root/);
    });

    it(`${prefix}: progress of a long-running tool reaches the caller`, async () => {
      const progress: number[] = [];
      const r = await client.callTool(
        { name: `${prefix}-trigger-long-running-operation`, arguments: { duration: 0.3, steps: 3 } },
        { onprogress: (p) => void progress.push(p.progress) },
      );
      assert.match(textOf(r), /completed/);
      assert.deepEqual(progress, [1, 2, 3]);
    });
  }

  it('cancelling an aggregate call sends notifications/cancelled to the owning upstream only', async () => {
    const abort = new AbortController();
    const call = client.callTool({ name: 'blocker-block', arguments: {} }, { signal: abort.signal });
    await until(() => blocker.calls.some((c) => c.name === 'block'), 'the call to reach the blocker');
    abort.abort('user gave up');
    await assert.rejects(call);
    await until(() => blocker.cancelled.length > 0, 'notifications/cancelled at the blocker').catch(() => {});
    assert.equal(blocker.cancelled.length, 1);
    assert.equal(textOf(await client.callTool({ name: 'blocker-quick', arguments: {} })), 'blocker:quick:{}');
  });
});
