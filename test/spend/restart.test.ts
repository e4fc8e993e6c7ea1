import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { hashKey } from '../../src/caller/key-format.js';
import { until } from '../helpers/within.js';
import { ENGINES } from '../store/engines.js';
import { spendRig } from './rig.js';

for (const engine of ENGINES) {
  describe(`spend survives a restart, ${engine.name} store`, () => {
    it('a new gateway on the same store starts with the stored spend and budget_reset_at', async () => {
      const run = await engine.run();
      const keep = { ...run, cleanup: async () => {} };
      const alias = 'restart-' + uid();
      let key: string;
      let resetAt: string;
      const first = await spendRig(keep);
      try {
        key = await first.key({ key_alias: alias, max_budget: 2, budget_duration: '1d' });
        await (await first.client(key)).callTool({ name: 'dear', arguments: {} });
        resetAt = await until(async () => {
          const r = await api(first.gw, 'GET', `/key/info?key=${hashKey(key)}`);
          return r.json.info.spend === 2 && r.json.info.budget_reset_at;
        }, 'the spend stored');
      } finally {
        await first.close();
      }
      const second = await spendRig(run);
      try {
        // Refused from the first call on: the budget check reads the spend loaded at start.
        await assert.rejects(
          (await second.client(key)).callTool({ name: 'cheap', arguments: {} }),
          (err: Error) => err.message === `ExceededBudget: Key=${alias} over budget. Spend=2, Budget=2`,
        );
        const info = await api(second.gw, 'GET', `/key/info?key=${hashKey(key)}`);
        assert.equal(info.json.info.budget_reset_at, resetAt, 'the period did not restart');
      } finally {
        await second.close();
      }
    });
  });
}
