import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initializeBody, until } from '../upstream/poll.js';
import { everythingStdioChildren } from '../fixtures/children.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

// Issue 11 item 2: one client's schema-invalid capabilities must not mark the upstream down for everybody.
describe("one client's bad initialize", { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n`);
    await gw.upstreams.get('everything')!.describe();
  });
  after(async () => {
    await gw?.close();
  });

  it('changes nothing for the other clients', async () => {
    const upstream = gw.upstreams.get('everything')!;
    const url = gw.mcpUrl('/mcp/everything');
    for (let i = 0; i < 6; i++) {
      // Mirrored upstream on a session of its own (sampling), where the upstream rejects it.
      const bad = await rawPost(url, initializeBody({ sampling: {}, experimental: { n: 'bad' } }));
      assert.ok(bad.json?.error, `the bad client gets the upstream's refusal: ${bad.text}`);
      // On the shared session the arbitrary experimental value is not even sent.
      const shared = await rawPost(url, initializeBody({ experimental: { n: 'bad' } }));
      assert.equal(shared.status, 200, shared.text);
    }
    assert.equal(upstream.health().state, 'ready');
    const sampler = await connectClient(url, { capabilities: { sampling: {} } });
    assert.equal(textOf(await sampler.callTool({ name: 'echo', arguments: { message: 'fine' } })), 'Echo: fine');
    const ready = await (await fetch(`${gw.url}/health/readiness`)).json();
    assert.equal(ready.servers.everything.state, 'ready');
    await sampler.close();
  });
});

// Issue 11 item 3: a SIGSTOPped stdio child was reported ready while every call timed out.
describe('a hung stdio child', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let pid: number | undefined;
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n    timeout: 5\n`);
    // A loaded machine may start the child slower than the timeout: the probe brings it up then.
    const upstream = gw.upstreams.get('everything')!;
    await until(
      'the child to be up',
      () =>
        upstream.describe().then(
          () => upstream.health().state === 'ready',
          () => false,
        ),
      60_000,
    );
  });
  after(async () => {
    if (pid) process.kill(pid, 'SIGCONT');
    await gw?.close();
  });

  it('times calls out, is reported not ready, and ready again after SIGCONT', async () => {
    const upstream = gw.upstreams.get('everything')!;
    const client = await connectClient(gw.mcpUrl('/mcp/everything'));
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'a' } })), 'Echo: a');
    const children = everythingStdioChildren();
    assert.equal(children.length, 1);
    pid = children[0];
    process.kill(pid, 'SIGSTOP');
    await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'b' } }), /did not answer/);
    await until('readiness to report the hung server', () => upstream.health().state === 'down');
    assert.equal(upstream.health().errorClass, 'timeout');
    const ready = await (await fetch(`${gw.url}/health/readiness`)).json();
    assert.equal(ready.servers.everything.state, 'down');
    process.kill(pid, 'SIGCONT');
    pid = undefined;
    await until('readiness to follow the server back', () => upstream.health().state === 'ready');
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'c' } })), 'Echo: c');
    await client.close();
  });
});
