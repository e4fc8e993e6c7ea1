import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { hashKey } from '../../src/caller/key-format.js';
import { until } from '../helpers/within.js';
import { ENGINES } from '../store/engines.js';
import { create, spendRig, type SpendRig } from './rig.js';

for (const engine of ENGINES) {
  describe(`spend per level, resets and soft budgets, ${engine.name} store`, () => {
    let rig: SpendRig;
    before(async () => {
      rig = await spendRig(await engine.run());
    });
    after(() => rig?.close());

    it('/key/info, /team/info, /user/info and /organization/info show the spend added to each level', async () => {
      const org = await create(rig.gw, '/organization/new', { organization_id: 'o-' + uid() });
      const team = await create(rig.gw, '/team/new', { team_id: 't-' + uid(), organization_id: org });
      const user = await create(rig.gw, '/user/new', { user_id: 'u-' + uid() });
      const key = await rig.key({ team_id: team, user_id: user, budget_duration: '30d' });
      const other = await rig.key({ team_id: team });
      await (await rig.client(key)).callTool({ name: 'dear', arguments: {} });
      await (await rig.client(key)).callTool({ name: 'cheap', arguments: {} });
      await (await rig.client(other)).callTool({ name: 'cheap', arguments: {} });
      const keyInfo = await until(async () => {
        const r = await api(rig.gw, 'GET', `/key/info?key=${hashKey(key)}`);
        return r.json.info.spend === 2.5 && r.json.info;
      }, 'key spend 2.5');
      const reset = Date.parse(keyInfo.budget_reset_at);
      assert.ok(reset > Date.now() + 29 * 86_400_000, 'budget_duration 30d: the reset is a month away');
      const teamInfo = await until(async () => {
        const r = await api(rig.gw, 'GET', `/team/info?team_id=${team}`);
        return r.json.team_info.spend === 3 && r.json.team_info;
      }, 'team spend 3');
      assert.equal(teamInfo.budget_reset_at, null, 'no budget_duration on the team: no reset');
      const userInfo = (await api(rig.gw, 'GET', `/user/info?user_id=${user}`)).json.user_info;
      assert.equal(userInfo.spend, 2.5);
      const orgInfo = (await api(rig.gw, 'GET', `/organization/info?organization_id=${org}`)).json;
      assert.equal(orgInfo.spend, 3, "the team's organization is charged");
      // A key reads its own info, spend included.
      const own = await api(rig.gw, 'GET', '/key/info', undefined, other);
      assert.equal(own.json.info.spend, 0.5);
    });

    it('budget_duration resets the spend on schedule: a refused key may call again in its next period', async () => {
      const alias = 'reset-' + uid();
      const key = await rig.key({ key_alias: alias, max_budget: 0.5, soft_budget: 0.5, budget_duration: '2s' });
      const c = await rig.client(key);
      await c.callTool({ name: 'cheap', arguments: {} });
      await assert.rejects(c.callTool({ name: 'cheap', arguments: {} }), /ExceededBudget/);
      const first = await until(async () => {
        const r = await api(rig.gw, 'GET', `/key/info?key=${hashKey(key)}`);
        return r.json.info.spend === 0.5 && r.json.info.budget_reset_at;
      }, 'the first period stored');
      // The writer's sweep ends the period at its time, whether or not the key calls.
      const info = await until(
        async () => {
          const r = await api(rig.gw, 'GET', `/key/info?key=${hashKey(key)}`);
          return r.json.info.spend === 0 && r.json.info.budget_reset_at !== first && r.json.info;
        },
        'the reset stored',
        { ms: 15_000 },
      );
      assert.ok(Date.parse(info.budget_reset_at) > Date.parse(first), 'the next period ends later');
      await c.callTool({ name: 'cheap', arguments: {} });
      // The soft budget alerts again in the new period: once per period.
      await until(async () => {
        const r = await api(rig.gw, 'GET', `/audit?action=budget.soft_budget_crossed&object_id=${hashKey(key)}`);
        return r.json.entries.length === 2;
      }, 'a second soft budget alert in the second period');
    });

    it('soft_budget crossed: one alert per period (a log line, an audit row and a counter), and calls go on', async () => {
      const team = await create(rig.gw, '/team/new', { team_id: 'soft-' + uid(), soft_budget: 1 });
      const c = await rig.client(await rig.key({ team_id: team }));
      const before = (await api(rig.gw, 'GET', '/spend/health')).json.soft_budget_alerts;
      for (let i = 0; i < 4; i++) await c.callTool({ name: 'cheap', arguments: {} });
      const audit = await until(async () => {
        const r = await api(rig.gw, 'GET', `/audit?action=budget.soft_budget_crossed&object_id=${team}`);
        return r.json.entries.length > 0 && r.json.entries;
      }, 'the audit row');
      assert.equal(audit.length, 1, 'once per period');
      assert.equal(audit[0].object_type, 'team');
      assert.deepEqual(audit[0].after, { spend: 1, soft_budget: 1 });
      const health = (await api(rig.gw, 'GET', '/spend/health')).json;
      assert.equal(health.soft_budget_alerts, before + 1);
      const line = rig.gw.logs.find((l) => l.includes('soft_budget crossed') && l.includes(team));
      assert.ok(line, 'a log line names the team');
    });
  });
}
