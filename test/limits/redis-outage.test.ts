import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uid } from '../admin/api.js';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { config, counters, curl, keyWithLimits, knows } from './drive.js';
import { RedisChild } from './redis-child.js';

const PASSWORD = 'canary-redis-password-' + uid();
const WARNED = 'rate limits: Redis unreachable';
const BACK = 'rate limits: Redis reachable again';

/**
 * Redis stalled, killed and restarted under a running gateway: a test-owned redis-server on its own
 * port (REDIS_HOST / REDIS_PORT / REDIS_PASSWORD), so the shared Redis is never touched.
 */
describe('rate limits when Redis goes away and comes back', { timeout: 120_000 }, () => {
  let up: CatalogServer;
  let redis: RedisChild;
  let open: TestGateway;
  let closed: TestGateway;
  const warnings = (gw: TestGateway, text: string) => gw.logs.filter((l) => l.includes(text)).length;

  before(async () => {
    up = await startCatalogServer({ name: 'alpha', tools: [tool('echo')] });
    redis = await RedisChild.start(PASSWORD);
    const env = { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), REDIS_PASSWORD: PASSWORD };
    open = await startTestGateway(config(up.url, { rate_limit_redis_prefix: `toolgate:open-${uid()}:` }), env);
    closed = await startTestGateway(
      config(up.url, {
        rate_limit_redis_prefix: `toolgate:closed-${uid()}:`,
        rate_limit_fail_closed: true,
        rate_limit_redis_timeout_ms: 100,
      }),
      env,
    );
  });
  after(
    async () => {
      redis?.resume();
      await open?.close();
      await closed?.close();
      await redis?.kill();
      await up.stop();
    },
    { timeout: 30_000 },
  );

  it('stalled: calls are still answered (the timeout), on local counters, with one warning; back when Redis answers', async () => {
    const probe = await keyWithLimits(open, 'key', { rpm_limit: 1000 });
    assert.equal((await curl(open, probe.key)).status, 200);
    assert.equal((await counters(open)).redis, 'up');
    redis.stall();
    try {
      for (let i = 0; i < 3; i++) assert.equal((await curl(open, probe.key)).status, 200, 'answered while Redis hangs');
      assert.equal((await counters(open)).redis, 'down');
      assert.equal(warnings(open, WARNED), 1, 'one warning for the outage, not one per call');
    } finally {
      redis.resume();
    }
    await until(async () => (await curl(open, probe.key)).status === 200 && (await counters(open)).redis === 'up', 'back on Redis');
    assert.equal(warnings(open, BACK), 1);
  });

  it('killed: each replica counts alone (or refuses, fail closed); restarted: shared again', async () => {
    const local = await keyWithLimits(open, 'key', { rpm_limit: 2 });
    const strict = await keyWithLimits(open, 'key', { rpm_limit: 5 });
    await knows(closed, strict.key);
    const before = warnings(open, WARNED);
    const fallbacks = Number((await counters(open)).fallbackDecisions);
    await redis.kill();

    // Fallback: the local counters enforce the same limit on this replica.
    assert.equal((await curl(open, local.key)).status, 200);
    assert.equal((await curl(open, local.key)).status, 200);
    const refused = await curl(open, local.key);
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.message, `Crossed RPM limit for ${local.owner} (rpm_limit). current rpm: 3, rpm limit: 2`);
    const status = await counters(open);
    assert.equal(status.redis, 'down');
    assert.ok(Number(status.fallbackDecisions) >= fallbacks + 3, JSON.stringify(status));
    assert.equal(warnings(open, WARNED), before + 1, 'one warning for this outage');

    // Fail closed: refused with a clear error, the upstream never reached; the master key is not limited.
    const reached = up.calls.length;
    const shut = await curl(closed, strict.key);
    assert.equal(shut.status, 429);
    assert.match(shut.json.error.message, /rate-limit counters \(Redis\) are unreachable and rate_limit_fail_closed is set/);
    assert.equal(up.calls.length, reached, 'the refused call never reached the upstream');
    assert.equal((await curl(closed, TEST_KEY)).status, 200);
    assert.ok(Number((await counters(closed)).failClosedRefusals) >= 1);

    await redis.restart();
    await until(async () => (await curl(closed, strict.key)).status === 200, 'the fail-closed replica back on Redis');
    const fresh = await keyWithLimits(open, 'key', { rpm_limit: 1 });
    await until(async () => (await curl(open, fresh.key)).status === 200, 'a call on the open replica');
    await until(async () => (await counters(open)).redis === 'up', 'the open replica back on Redis');
    const probeClient = redis.client();
    await probeClient.connect();
    try {
      // The counter of the call above lives in the restarted Redis.
      assert.ok((await probeClient.dbsize()) > 0);
    } finally {
      probeClient.disconnect();
    }
    for (const gw of [open, closed]) assert.ok(!gw.logs.join('').includes(PASSWORD), 'the Redis password never reaches the log');
  });
});
