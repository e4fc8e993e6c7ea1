import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startScriptedUpstream, type ScriptedUpstream } from '../fixtures/scripted-upstream.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { anotherKey, driverPool, ERAS, keyWithLimits, LEVELS } from './drive.js';

/**
 * max_parallel_requests: calls in flight, held by the scripted upstream's `wait` (it answers only
 * when cancelled), and released when the call settles: on a result, an error, a cancel, or the
 * client going away.
 */
describe('max_parallel_requests: in-flight tools/calls per level', { timeout: 120_000 }, () => {
  let up: ScriptedUpstream;
  let gw: TestGateway;
  const { open, closeAll } = driverPool();

  before(async () => {
    up = await startScriptedUpstream();
    // The same server twice: `alpha` waits as long as asked, `brief` times its calls out quickly (an error).
    gw = await startTestGateway(`mcp_servers:\n  alpha: { url: "${up.url}" }\n  brief: { url: "${up.url}", timeout: 0.3 }\n`);
  });
  after(
    async () => {
      await closeAll();
      await gw?.close();
      await up.stop();
    },
    { timeout: 30_000 },
  );

  for (const era of ERAS)
    for (const level of LEVELS) {
      it(`on the ${level}, ${era}: refused while one is in flight, free again once it is cancelled`, async () => {
        const { key, owner, ownerId } = await keyWithLimits(gw, level, { max_parallel_requests: 1 });
        // A team's (user's, organization's) slot is shared: the second call comes from another of its keys.
        const other = level === 'key' ? key : await anotherKey(gw, level, ownerId);
        const [holder, second] = [await open(gw, era, key), await open(gw, era, other)];
        const waits = up.waits.length;
        const cancel = new AbortController();
        const held = holder.call('wait', {}, cancel.signal);
        await until(() => up.waits.length > waits, 'the held call reached the upstream');
        const refused = await second.call('echo', { message: 'x' });
        assert.equal(refused.ok, false);
        const message = (refused as { message: string }).message;
        assert.ok(
          message.includes(
            `Crossed Max Parallel Request Limit for ${owner} (max_parallel_requests). current max_parallel_requests: 2, max_parallel_requests: 1`,
          ),
          message,
        );
        cancel.abort();
        await held;
        await until(async () => (await second.call('echo', { message: 'again' })).ok, 'the slot freed by the cancel');
      });
    }

  it('a call that fails upstream releases its slot', async () => {
    const { key } = await keyWithLimits(gw, 'key', { max_parallel_requests: 1 });
    const d = await open(gw, '2025 session', key, 'brief');
    const failed = await d.call('wait');
    assert.equal(failed.ok, false);
    assert.doesNotMatch((failed as { message: string }).message, /Parallel/);
    assert.equal((await d.call('echo', { message: 'after error' })).ok, true);
  });

  it('a client that goes away releases its slot', async () => {
    const { key } = await keyWithLimits(gw, 'key', { max_parallel_requests: 1 });
    const waits = up.waits.length;
    const gone = new AbortController();
    const body = JSON.stringify({ method: 'tools/call', params: { name: 'wait', arguments: {} } });
    const pending = fetch(gw.mcpUrl('/mcp/alpha'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}` },
      body,
      signal: gone.signal,
    }).catch(() => undefined);
    await until(() => up.waits.length > waits, 'the held call reached the upstream');
    const curl = JSON.stringify({ method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } });
    const auth = { authorization: `Bearer ${key}`, accept: 'application/json' };
    assert.equal((await rawPost(gw.mcpUrl('/mcp/alpha'), curl, auth)).status, 429);
    gone.abort();
    await pending;
    await until(async () => (await rawPost(gw.mcpUrl('/mcp/alpha'), curl, auth)).status === 200, 'the slot freed when the client left');
  });
});
