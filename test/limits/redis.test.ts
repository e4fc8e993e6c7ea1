import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { api, uid } from '../admin/api.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../fixtures/scripted-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { postgresRun, type EngineRun } from '../store/engines.js';
import { config, counters, curl, keyWithLimits, knows } from './drive.js';

describe('rate limits on Redis', { timeout: 120_000 }, () => {
  let up: ScriptedUpstream;
  before(async () => {
    up = await startScriptedUpstream();
  });
  after(() => up.stop(), { timeout: 30_000 });

  describe('two replicas on one PostgreSQL and the Redis at 127.0.0.1:6379', () => {
    const prefix = `toolgate:test-${uid()}:`;
    let run: EngineRun;
    let a: TestGateway;
    let b: TestGateway;
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    before(async () => {
      run = await postgresRun();
      const yaml = config(up.url, { rate_limit_redis_prefix: prefix });
      a = await startTestGateway(yaml, { REDIS_URL: 'redis://127.0.0.1:6379' }, 0, { store: await run.open() });
      b = await startTestGateway(yaml, { REDIS_URL: 'redis://127.0.0.1:6379' }, 0, { store: await run.open() });
      await redis.connect();
    });
    after(
      async () => {
        const keys = await redis.keys(prefix + '*');
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
        for (const gw of [a, b]) {
          await gw?.close();
          await gw?.store.close();
        }
        await run?.cleanup();
      },
      { timeout: 30_000 },
    );

    it('one rpm_limit and one max_parallel_requests hold across both replicas', async () => {
      assert.equal((await counters(a)).redis, 'up');
      const { key, owner } = await keyWithLimits(a, 'team', { rpm_limit: 3 });
      await knows(b, key);
      const statuses = [];
      for (const gw of [a, b, a, b]) statuses.push(await curl(gw, key));
      assert.deepEqual(
        statuses.map((r) => r.status),
        [200, 200, 200, 429],
      );
      assert.equal(statuses[3]!.json.error.message, `Crossed RPM limit for ${owner} (rpm_limit). current rpm: 4, rpm limit: 3`);

      const par = await keyWithLimits(a, 'key', { max_parallel_requests: 1 });
      await knows(b, par.key);
      const waits = up.waits.length;
      const gone = new AbortController();
      const held = fetch(a.mcpUrl('/mcp/alpha'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${par.key}` },
        body: JSON.stringify({ method: 'tools/call', params: { name: 'wait', arguments: {} } }),
        signal: gone.signal,
      }).catch(() => undefined);
      await until(() => up.waits.length > waits, 'the held call on a');
      const onB = await curl(b, par.key);
      assert.equal(onB.status, 429);
      assert.match(
        onB.json.error.message,
        /Crossed Max Parallel Request Limit .* current max_parallel_requests: 2, max_parallel_requests: 1/,
      );
      gone.abort();
      await held;
      await until(async () => (await curl(b, par.key)).status === 200, 'the slot freed on Redis');

      // Keys are prefixed and hashed: no key, token or team id in clear.
      const keys = await redis.keys(prefix + '*');
      assert.ok(keys.length >= 1, 'the rate counter is on Redis');
      const token = (await api(a, 'GET', `/key/info?key=${key}`)).json.key as string;
      for (const k of keys) {
        assert.ok(k.startsWith(prefix + 'rl:') && /^[A-Za-z0-9_-]{32}$/.test(k.slice(prefix.length + 3)), k);
        for (const secret of [key, par.key, owner.slice(5), token]) assert.ok(!k.includes(secret), `${k} holds ${secret}`);
      }
    });
  });
});
