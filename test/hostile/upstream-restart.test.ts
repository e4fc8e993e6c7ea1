import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../upstream/poll.js';
import { startEverything, type RunningEverything } from '../fixtures/everything.js';
import { connectClient, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

// Issue 11 item 1: server-everything restarted on the same port answers the old session id with 400.
describe('an HTTP upstream restarted on the same port', { timeout: 120_000 }, () => {
  let everything: RunningEverything;
  let gw: TestGateway;
  before(async () => {
    everything = await startEverything('streamableHttp');
    gw = await startTestGateway(`mcp_servers:\n  everything:\n    url: ${everything.url}\n    timeout: 5\n`);
  });
  after(async () => {
    await gw?.close();
    await everything?.stop();
  });

  it('gets a fresh upstream session and readiness follows, for old and new clients', async () => {
    const upstream = gw.upstreams.get('everything')!;
    const old = await connectClient(gw.mcpUrl('/mcp/everything'));
    const echo = async (c: typeof old, message: string) => textOf(await c.callTool({ name: 'echo', arguments: { message } }));
    assert.equal(await echo(old, 'before'), 'Echo: before');
    const port = everything.port;
    await everything.stop();
    await assert.rejects(echo(old, 'while down'));
    await until('the upstream to be marked down', () => upstream.health().state === 'down');
    assert.equal(upstream.health().errorClass, 'connect');
    everything = await startEverything('streamableHttp', port);
    const back = Date.now();
    // Calls in a loop, as the client did; the first success ends it.
    await until('a call to succeed after the restart', async () => {
      try {
        return (await echo(old, 'after')) === 'Echo: after';
      } catch {
        return false;
      }
    });
    const recovered = Date.now() - back;
    await until('readiness to follow', () => upstream.health().state === 'ready');
    console.log(`# recovery after restart: first successful call ${recovered} ms after the server listened again`);
    const fresh = await connectClient(gw.mcpUrl('/mcp/everything'));
    assert.equal(await echo(fresh, 'new client'), 'Echo: new client');
    const ready = await (await fetch(`${gw.url}/health/readiness`)).json();
    assert.equal(ready.servers.everything.state, 'ready');
    await old.close();
    await fresh.close();
  });

  it('busy clients while it is down do not push its next attempt further away (one failure per backoff step)', async () => {
    const upstream = gw.upstreams.get('everything')!;
    const clients = await Promise.all(Array.from({ length: 6 }, () => connectClient(gw.mcpUrl('/mcp/everything'))));
    const port = everything.port;
    await everything.stop();
    // 60 failing calls in all, on sessions that were open when it went away: the soak's clients did
    // this, and each failure doubled the backoff, so the server was retried only 46 s after it was back.
    const waits: number[] = [];
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 10; i++) {
          await c.callTool({ name: 'echo', arguments: { message: 'down' } }).catch((err: Error) => {
            const m = /next attempt in (\d+) s/.exec(err.message);
            if (m) waits.push(Number(m[1]));
          });
        }
      }),
    );
    await until('the upstream to be marked down', () => upstream.health().state === 'down');
    const longest = Math.max(0, ...waits);
    // Backoff doubles per failed attempt from 0.5 s: 60 counted failures would reach its 30 s cap.
    assert.ok(longest < 30, `the next attempt was pushed to ${longest} s by clients' failures (${waits.length} refusals)`);
    everything = await startEverything('streamableHttp', port);
    await until('a call to succeed after the restart', async () =>
      clients[0]!.callTool({ name: 'echo', arguments: { message: 'up' } }).then(
        (r) => textOf(r) === 'Echo: up',
        () => false,
      ),
    );
    await Promise.all(clients.map((c) => c.close()));
  });

  it('comes back without any client traffic: the probe reopens the default session', async () => {
    const upstream = gw.upstreams.get('everything')!;
    await upstream.describe();
    const port = everything.port;
    await everything.stop();
    // One client call notices the server is gone; then nobody calls.
    const client = await connectClient(gw.mcpUrl('/mcp/everything')).catch(() => undefined);
    await client?.callTool({ name: 'echo', arguments: { message: 'x' } }).catch(() => {});
    await client?.close();
    await until('the upstream to be marked down', () => upstream.health().state === 'down');
    everything = await startEverything('streamableHttp', port);
    const back = Date.now();
    await until('readiness to follow without traffic', () => upstream.health().state === 'ready');
    console.log(`# readiness back ${Date.now() - back} ms after the server listened again (no client traffic)`);
  });
});
