import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/**
 * Background health checks: tools/list on the upstream's kept default session every interval, with a
 * timeout; results in /v1/mcp/server/health (per key), readiness and HealthChecks.status/check.
 */
describe('health checks', () => {
  let alpha: CatalogServer;
  let beta: CatalogServer;
  let personal: CatalogServer;
  let slow: CatalogServer;
  let gw: TestGateway;
  let alphaPort: number;

  before(async () => {
    [alpha, beta, personal, slow] = await Promise.all([
      startCatalogServer({ name: 'alpha', tools: [tool('a')] }),
      startCatalogServer({ name: 'beta', tools: [tool('b')] }),
      startCatalogServer({ name: 'personal', tools: [tool('p')] }),
      startCatalogServer({ name: 'slow', tools: [tool('s')], listDelayMs: 5_000 }),
    ]);
    alphaPort = Number(new URL(alpha.url).port);
    gw = await startTestGateway(
      `mcp_servers:\n  alpha:\n    url: ${alpha.url}\n  beta:\n    url: ${beta.url}\n` +
        `  personal:\n    url: ${personal.url}\n    extra_headers: [x-user-token]\n  slow:\n    url: ${slow.url}\n` +
        'toolgate_settings:\n  health_check_interval_seconds: 0.1\n  listing_timeout_seconds: 0.5\n',
    );
  });
  after(async () => {
    await gw?.close();
    await stopAll([alpha, beta, personal, slow]);
  });

  it('probes on one kept upstream session: many probes, one initialize', async () => {
    await until(() => gw.health.status('alpha').status === 'healthy', 'alpha healthy');
    const initializes = alpha.count('initialize');
    const probes = alpha.count('tools/list');
    await until(() => alpha.count('tools/list') >= probes + 5, 'five more probes');
    assert.equal(alpha.count('initialize'), initializes, 'no new upstream session per probe');
    assert.equal(initializes, 1, 'the warm default session is the one probed');
    const h = gw.health.status('alpha');
    assert.equal(h.health_check_error, null);
    assert.ok(!Number.isNaN(Date.parse(h.last_health_check!)));
  });

  it('skips servers that need per-user credentials (unknown, never probed)', async () => {
    const probes = beta.count('tools/list');
    await until(() => beta.count('tools/list') >= probes + 3, 'beta probed meanwhile');
    assert.equal(personal.count('tools/list'), 0);
    assert.deepEqual(gw.health.status('personal'), { status: 'unknown', last_health_check: null, health_check_error: null });
    assert.equal((await gw.health.check('personal'))!.status, 'unknown');
  });

  it('a probe that outlasts its timeout is unhealthy, saying so', async () => {
    const h = await until(() => (gw.health.status('slow').status === 'unhealthy' ? gw.health.status('slow') : undefined), 'slow unhealthy');
    assert.match(h.health_check_error!, /within 0\.5 s/);
  });

  it('goes unhealthy with the error when the server is down, and healthy again when it is back', async () => {
    await alpha.stop();
    const down = await until(
      () => (gw.health.status('alpha').status === 'unhealthy' ? gw.health.status('alpha') : undefined),
      'alpha unhealthy',
    );
    assert.match(down.health_check_error!, /alpha/);
    const ready = await api(gw, 'GET', '/health/readiness');
    assert.equal(ready.json.servers.alpha.health, 'unhealthy');
    assert.equal(ready.json.servers.beta.health, 'healthy');
    alpha = await startCatalogServer({ name: 'alpha', tools: [tool('a')], port: alphaPort });
    await until(() => gw.health.status('alpha').status === 'healthy', 'alpha healthy again', { ms: 40_000 });
    const live = await gw.health.check('alpha');
    assert.equal(live!.status, 'healthy');
    assert.equal(await gw.health.check('nosuch'), undefined);
  });

  it("forgets a changed definition's result and probes the new one", async () => {
    await until(() => gw.health.status('beta').status === 'healthy', 'beta healthy');
    const other = await startCatalogServer({ name: 'beta2', tools: [tool('b')] });
    try {
      await gw.registry.change({ ...gw.registry.get('beta')!.config, url: other.url });
      await until(() => other.count('tools/list') > 0 && gw.health.status('beta').status === 'healthy', 'the new definition probed');
      await gw.registry.change({ ...gw.registry.get('beta')!.config, url: beta.url });
    } finally {
      await other.stop();
    }
  });

  it('GET /v1/mcp/server/health answers for the servers the key may use only', async () => {
    await until(() => gw.health.status('beta').status === 'healthy', 'beta healthy');
    const k = await api(gw, 'POST', '/key/generate', { key_alias: `health-${uid()}`, object_permission: { mcp_servers: ['beta'] } });
    const mine = await api(gw, 'GET', '/v1/mcp/server/health?server_ids=alpha,beta,nosuch', undefined, k.json.key);
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.json.length, 1);
    assert.equal(mine.json[0].server_id, 'beta');
    assert.equal(mine.json[0].status, 'healthy');
    assert.equal(mine.json[0].health_check_error, null);
    assert.equal(typeof mine.json[0].last_health_check, 'string');
    const all = await api(gw, 'GET', '/v1/mcp/server/health', undefined, TEST_KEY);
    assert.deepEqual(
      all.json.map((h: { server_id: string }) => h.server_id),
      ['alpha', 'beta', 'personal', 'slow'],
    );
    const repeated = await api(gw, 'GET', '/v1/mcp/server/health?server_ids=beta&server_ids=slow', undefined, TEST_KEY);
    assert.deepEqual(
      repeated.json.map((h: { server_id: string }) => h.server_id),
      ['beta', 'slow'],
    );
    assert.equal((await api(gw, 'GET', '/v1/mcp/server/health', undefined, null)).status, 401);
  });

  it('GET /v1/mcp/server/health shows the upstream error text to admins and viewers only', async () => {
    await until(() => gw.health.status('slow').status === 'unhealthy', 'slow unhealthy');
    const k = await api(gw, 'POST', '/key/generate', { key_alias: `health-${uid()}`, object_permission: { mcp_servers: ['slow'] } });
    const keyView = await api(gw, 'GET', '/v1/mcp/server/health?server_ids=slow', undefined, k.json.key);
    assert.equal(keyView.json[0].status, 'unhealthy');
    assert.equal(keyView.json[0].health_check_error, null, 'a key does not read why');
    const master = await api(gw, 'GET', '/v1/mcp/server/health?server_ids=slow', undefined, TEST_KEY);
    assert.match(master.json[0].health_check_error, /within 0\.5 s/);
    const viewer = await api(gw, 'POST', '/user/new', { user_id: 'viewer-' + uid(), user_role: 'proxy_admin_viewer' });
    assert.equal(viewer.status, 200, viewer.text);
    const viewed = await api(gw, 'GET', '/v1/mcp/server/health?server_ids=slow', undefined, viewer.json.key);
    assert.match(viewed.json[0].health_check_error, /within 0\.5 s/);
  });
});

describe('health checks off (interval 0)', () => {
  it('probes nothing in the background; check() still probes on demand', async () => {
    const server = await startCatalogServer({ name: 'quiet', tools: [tool('q')] });
    const gw = await startTestGateway(
      `mcp_servers:\n  quiet:\n    url: ${server.url}\ntoolgate_settings:\n  health_check_interval_seconds: 0\n`,
    );
    try {
      assert.equal(gw.health.status('quiet').status, 'unknown');
      assert.equal((await gw.health.check('quiet'))!.status, 'healthy');
      assert.equal(gw.health.status('quiet').status, 'healthy');
      assert.equal(server.count('tools/list'), 1, 'the one probe asked for');
    } finally {
      await gw.close();
      await server.stop();
    }
  });
});
