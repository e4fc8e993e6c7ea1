import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';
import { postgresRun, type EngineRun } from '../store/engines.js';
import { ADMIN_CONFIG, api } from '../admin/api.js';

const statusWith = async (gw: TestGateway, key: string) =>
  (await rawPost(gw.mcpUrl('/mcp/alpha'), '{}', { authorization: `Bearer ${key}` })).status;

/** Polls until the condition holds; the guard only stops a hang (the change feed's target is well under a second). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  await within(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 20));
    })(),
    what,
    5000,
  );
}

describe('two gateways on one PostgreSQL', () => {
  let run: EngineRun;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    run = await postgresRun();
    a = await startTestGateway(ADMIN_CONFIG, {}, 0, { store: await run.open() });
    b = await startTestGateway(ADMIN_CONFIG, {}, 0, { store: await run.open() });
  });
  after(async () => {
    await a.close();
    await b.close();
    await a.store.close();
    await b.store.close();
    await run.cleanup();
  });

  test('a key generated on one is accepted by the other; revoked on one, refused by the other', async () => {
    const k = await api(a, 'POST', '/key/generate', {});
    assert.notEqual(await statusWith(a, k.json.key), 401, 'at once on the gateway that made the change');
    await until('gateway B to accept the new key', async () => (await statusWith(b, k.json.key)) !== 401);
    await api(a, 'POST', '/key/block', { key: k.json.token });
    assert.equal(await statusWith(a, k.json.key), 401);
    await until('gateway B to refuse the blocked key', async () => (await statusWith(b, k.json.key)) === 401);
    await api(b, 'POST', '/key/unblock', { key: k.json.token });
    await until('gateway A to accept the unblocked key', async () => (await statusWith(a, k.json.key)) !== 401);
    await api(b, 'POST', '/key/delete', { keys: [k.json.token] });
    await until('gateway A to refuse the deleted key', async () => (await statusWith(a, k.json.key)) === 401);
  });
});
