import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig } from '../../src/config/describe.js';
import { parseConfig } from '../../src/config/load.js';

const SERVERS = 'mcp_servers:\n  alpha: { url: "http://127.0.0.1:9/mcp" }\n';
const PASSWORD = 'canary-redis-secret-4242';

describe('rate-limit settings: LiteLLM Redis variables and toolgate_settings', () => {
  it('no Redis and no setting: counters in memory, the settings as before', () => {
    const c = parseConfig(SERVERS, 'c.yaml', {});
    assert.equal(c.settings.rateLimits, undefined);
    assert.match(describeConfig(c), /rate-limit counters: in memory/);
  });

  it('REDIS_URL, or REDIS_HOST / REDIS_PORT / REDIS_PASSWORD (environment or environment_variables:)', () => {
    const url = parseConfig(SERVERS, 'c.yaml', { REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:6380/0` });
    assert.deepEqual(url.settings.rateLimits, {
      redis: { url: `redis://:${PASSWORD}@127.0.0.1:6380/0` },
      failClosed: false,
      redisTimeoutMs: 50,
      redisPrefix: 'toolgate:',
    });
    const host = parseConfig(
      `${SERVERS}environment_variables: { REDIS_HOST: 10.0.0.7, REDIS_PORT: "6390", REDIS_PASSWORD: ${PASSWORD} }\n`,
      'c.yaml',
      {},
    );
    assert.deepEqual(host.settings.rateLimits?.redis, { host: '10.0.0.7', port: 6390, password: PASSWORD });
    for (const c of [url, host]) {
      const text = describeConfig(c);
      assert.match(text, /rate-limit counters: Redis .*timeout 50 ms, local fallback when down/);
      assert.ok(!text.includes(PASSWORD), text);
    }
  });

  it('fail closed, timeout and prefix under toolgate_settings; bad values name the field', () => {
    const c = parseConfig(
      `${SERVERS}toolgate_settings: { rate_limit_fail_closed: true, rate_limit_redis_timeout_ms: 20, rate_limit_redis_prefix: "tg:prod:" }\n`,
      'c.yaml',
      { REDIS_HOST: '127.0.0.1' },
    );
    assert.deepEqual(c.settings.rateLimits, {
      redis: { host: '127.0.0.1', port: 6379 },
      failClosed: true,
      redisTimeoutMs: 20,
      redisPrefix: 'tg:prod:',
    });
    assert.match(describeConfig(c), /fail closed/);
    const bad: Array<[string, Record<string, string>, RegExp]> = [
      ['toolgate_settings: { rate_limit_fail_closed: "yes" }', {}, /rate_limit_fail_closed.*true or false/],
      ['toolgate_settings: { rate_limit_redis_timeout_ms: 0 }', {}, /rate_limit_redis_timeout_ms.*greater than 0/],
      ['toolgate_settings: { rate_limit_redis_prefix: "has space" }', {}, /rate_limit_redis_prefix/],
      ['', { REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL.*redis:\/\//],
      ['', { REDIS_HOST: 'h', REDIS_PORT: 'x' }, /REDIS_PORT.*port number/],
    ];
    for (const [yaml, env, message] of bad)
      assert.throws(() => parseConfig(`${SERVERS}${yaml}\n`, 'c.yaml', env), message, yaml || JSON.stringify(env));
  });
});
