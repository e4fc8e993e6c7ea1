import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { api } from '../admin/api.js';
import { TEST_KEY } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { adminQuery, postgresRun } from '../store/engines.js';
import { spendRig, type SpendRig } from './rig.js';

/** Makes this run's spend log table unwritable (renamed away) and back: the store is "down" for spend rows only. */
async function breakTable(schema: string, broken: boolean): Promise<void> {
  const [from, to] = broken ? ['toolgate_spend_logs', 'toolgate_spend_logs_away'] : ['toolgate_spend_logs_away', 'toolgate_spend_logs'];
  await adminQuery(`ALTER TABLE ${schema}.${from} RENAME TO ${to}`);
}

async function health(rig: SpendRig): Promise<any> {
  return (await api(rig.gw, 'GET', '/spend/health')).json;
}

describe('spend rows while the store is down (PostgreSQL)', () => {
  const rigs: SpendRig[] = [];
  after(async () => {
    for (const r of rigs) await r.close();
  });

  it('rows wait in the buffer, calls go on, and every row is written once the store is back', async () => {
    const run = await postgresRun();
    const rig = await spendRig(run);
    rigs.push(rig);
    const c = await rig.client(TEST_KEY);
    await breakTable(run.where, true);
    for (let i = 0; i < 10; i++) await c.callTool({ name: 'cheap', arguments: {} });
    const down = await until(async () => {
      const h = await health(rig);
      return h.store_ok === false && h.failures > 0 && h.queued === 10 && h;
    }, 'the writer to notice');
    assert.equal(down.dropped, 0);
    assert.ok(rig.gw.logs.some((l) => l.includes('spend writer: store unavailable')));
    await breakTable(run.where, false);
    await until(async () => (await health(rig)).queued === 0, 'the buffer to drain', { ms: 20_000 });
    const rows = await rig.logs('api_key=master&tool=cheap', 10);
    assert.equal(rows.length, 10, 'one row per call, none twice');
    assert.equal((await health(rig)).store_ok, true);
  });

  it('beyond spend_log_buffer_rows new rows are dropped and counted', async () => {
    const run = await postgresRun();
    const rig = await spendRig(run, { yaml: 'toolgate_settings:\n  spend_log_buffer_rows: 3\n' });
    rigs.push(rig);
    const c = await rig.client(TEST_KEY);
    await breakTable(run.where, true);
    for (let i = 0; i < 7; i++) await c.callTool({ name: 'cheap', arguments: {} });
    const h = await until(async () => {
      const now = await health(rig);
      return now.store_ok === false && now;
    }, 'the writer to notice');
    assert.equal(h.queued, 3);
    assert.equal(h.dropped, 4);
    assert.ok(rig.gw.logs.some((l) => l.includes('spend log buffer full')));
    await breakTable(run.where, false);
    await until(async () => (await health(rig)).queued === 0, 'the buffer to drain', { ms: 20_000 });
    assert.equal((await rig.logs('api_key=master', 3)).length, 3);
  });
});
