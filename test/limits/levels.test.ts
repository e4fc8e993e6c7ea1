import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { anotherKey, driverPool, ERAS, keyWithLimits, LEVELS, type Outcome } from './drive.js';

/** Each rate limit kind, with the call that uses up its limit of 1, the call it refuses, and what the refusal says. */
const KINDS = [
  {
    kind: 'rpm_limit',
    limits: { rpm_limit: 1 },
    first: 't1',
    refused: 't2',
    message: (owner: string) => `Crossed RPM limit for ${owner} (rpm_limit). current rpm: 2, rpm limit: 1`,
  },
  {
    kind: 'mcp_rpm_limit',
    limits: { mcp_rpm_limit: { alpha: 1, beta: 5 } },
    first: 't1',
    refused: 't2',
    message: (owner: string) => `Crossed MCP server RPM limit for ${owner} on server "alpha" (mcp_rpm_limit). current rpm: 2, rpm limit: 1`,
  },
  {
    kind: 'mcp_tool_rpm_limit',
    limits: { mcp_tool_rpm_limit: { 'alpha/t1': 1 } },
    first: 't1',
    refused: 't1',
    // Another tool of the same server is not counted by t1's limit.
    free: 't2',
    message: (owner: string) =>
      `Crossed MCP tool RPM limit for ${owner} on tool "alpha/t1" (mcp_tool_rpm_limit). current rpm: 2, rpm limit: 1`,
  },
] as const;

function refusal(o: Outcome): string {
  assert.equal(o.ok, false, `expected a refusal, got ${JSON.stringify(o)}`);
  return (o as { message: string }).message;
}

describe('rate limits: each kind at each level, over both eras and the aggregate', { timeout: 180_000 }, () => {
  let alpha: CatalogServer;
  let beta: CatalogServer;
  let gw: TestGateway;
  const { open, closeAll } = driverPool();

  before(async () => {
    alpha = await startCatalogServer({ name: 'alpha', tools: [tool('t1'), tool('t2')] });
    beta = await startCatalogServer({ name: 'beta', tools: [tool('b1')] });
    gw = await startTestGateway(`mcp_servers:\n  alpha: { url: "${alpha.url}" }\n  beta: { url: "${beta.url}" }\n`);
  });
  after(
    async () => {
      await closeAll();
      await gw?.close();
      await stopAll([alpha, beta]);
    },
    { timeout: 30_000 },
  );

  for (const era of ERAS)
    for (const level of LEVELS)
      for (const k of KINDS) {
        it(`${k.kind} on the ${level}, ${era}`, async () => {
          const { key, owner } = await keyWithLimits(gw, level, k.limits);
          const d = await open(gw, era, key);
          assert.equal((await d.call(k.first)).ok, true);
          const reached = alpha.calls.length;
          const message = refusal(await d.call(k.refused));
          assert.ok(message.includes(k.message(owner)), message);
          assert.ok(!message.includes(key), 'the key itself never appears');
          assert.equal(alpha.calls.length, reached, 'the limited call never reached the upstream');
          if ('free' in k) assert.equal((await d.call(k.free)).ok, true);
        });
      }

  it("a team's limit is one counter shared by its keys; the key's own limit applies on top", async () => {
    const { key: a, owner, ownerId } = await keyWithLimits(gw, 'team', { rpm_limit: 3 });
    const b = await anotherKey(gw, 'team', ownerId);
    const [da, db] = [await open(gw, '2025 session', a), await open(gw, 'aggregate /mcp', b)];
    assert.equal((await da.call('t1')).ok, true);
    assert.equal((await db.call('t1')).ok, true);
    assert.equal((await da.call('t2')).ok, true);
    const message = refusal(await db.call('t1'));
    assert.match(message, new RegExp(`Crossed RPM limit for ${owner} \\(rpm_limit\\)\\. current rpm: 4, rpm limit: 3`));
    // A key with its own, lower limit in a team with room: the key's counter refuses first.
    const { ownerId: team } = await keyWithLimits(gw, 'team', { rpm_limit: 10 });
    const own = await keyWithLimits(gw, 'key', { team_id: team, rpm_limit: 1 });
    const dk = await open(gw, '2025 session', own.key);
    assert.equal((await dk.call('t1')).ok, true);
    assert.match(refusal(await dk.call('t1')), new RegExp(`for ${own.owner.replace(/\./g, '\\.')} \\(rpm_limit\\)`));
  });

  it("a user's and an organization's limits are shared by all their keys too", async () => {
    for (const level of ['user', 'organization'] as const) {
      const { key: a, owner, ownerId } = await keyWithLimits(gw, level, { mcp_rpm_limit: { beta: 1 } });
      const b = await anotherKey(gw, level, ownerId);
      assert.equal((await (await open(gw, '2026 stateless', a, 'beta')).call('b1')).ok, true);
      const message = refusal(await (await open(gw, '2025 session', b, 'beta')).call('b1'));
      assert.ok(message.includes(`for ${owner} on server "beta" (mcp_rpm_limit)`), message);
    }
  });

  it('mcp_rpm_limit counts per server: a limited server does not limit the others on /mcp', async () => {
    const { key } = await keyWithLimits(gw, 'key', { mcp_rpm_limit: { alpha: 1 } });
    const d = await open(gw, 'aggregate /mcp', key);
    assert.equal((await d.call('t1')).ok, true);
    assert.equal((await d.call('t2')).ok, false);
    const onBeta = await open(gw, 'aggregate /mcp', key, 'beta');
    for (let i = 0; i < 3; i++) assert.equal((await onBeta.call('b1')).ok, true);
  });

  it('a changed limit applies to the next call (the snapshot follows the store), and keys never reach the log', async () => {
    const { key, ownerId } = await keyWithLimits(gw, 'key', { rpm_limit: 1 });
    const d = await open(gw, '2025 session', key);
    assert.equal((await d.call('t1')).ok, true);
    assert.equal((await d.call('t1')).ok, false);
    const { api } = await import('../admin/api.js');
    assert.equal((await api(gw, 'POST', '/key/update', { key: ownerId, rpm_limit: 3 })).status, 200);
    await until(async () => (await d.call('t1')).ok, 'the raised limit');
    assert.ok(!gw.logs.join('').includes(key), 'the key never appears in the log');
  });

  it('the master key and a proxy_admin user are never limited', async () => {
    const master = await open(gw, '2025 session', TEST_KEY);
    for (let i = 0; i < 5; i++) assert.equal((await master.call('t1')).ok, true);
    const { key, ownerId } = await keyWithLimits(gw, 'user', { rpm_limit: 1 });
    const admin = await keyWithLimits(gw, 'key', { rpm_limit: 1 });
    const { api } = await import('../admin/api.js');
    assert.equal((await api(gw, 'POST', '/user/update', { user_id: ownerId, user_role: 'proxy_admin' })).status, 200);
    const d = await open(gw, '2025 session', key);
    for (let i = 0; i < 3; i++) assert.equal((await d.call('t1')).ok, true, 'a proxy_admin user is not limited');
    const limited = await open(gw, '2025 session', admin.key);
    assert.equal((await limited.call('t1')).ok, true);
    assert.equal((await limited.call('t1')).ok, false);
  });
});
