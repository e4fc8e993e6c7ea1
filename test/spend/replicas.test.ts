import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uid } from '../admin/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { postgresRun, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { PRICES_YAML, spendRig, type SpendRig } from './rig.js';
import { connectClient } from '../helpers/gateway.js';

/** Two gateways on one PostgreSQL schema: spend charged on one counts against the budget on the other. */
describe('replicas on one PostgreSQL share spend', () => {
  let run: EngineRun;
  let a: SpendRig;
  let bStore: Store;
  let b: TestGateway;
  before(async () => {
    run = await postgresRun();
    a = await spendRig({ ...run, cleanup: async () => {} });
    bStore = await run.open();
    b = await startTestGateway(PRICES_YAML(a.paid.url, a.paid.url), {}, 0, { store: bStore });
  });
  after(async () => {
    await b?.close();
    await bStore?.close();
    await a?.close();
    await run?.cleanup();
  });

  it("a key's budget spent through one replica refuses it on the other", async () => {
    const alias = 'rep-' + uid();
    const key = await a.key({ key_alias: alias, max_budget: 2 });
    // The other replica knows the key once the store's change event reached it.
    const onB = await until(() => connectClient(b.mcpUrl('/mcp/paid'), { key }).catch(() => undefined), 'the key on replica b');
    try {
      await onB.callTool({ name: 'cheap', arguments: {} });
      await (await a.client(key)).callTool({ name: 'dear', arguments: {} });
      // Until b re-read the total its own calls still pass (each charged): spend is shared, not locked.
      const refusal = await until<string>(
        () =>
          onB.callTool({ name: 'cheap', arguments: {} }).then(
            () => false as const,
            (err: Error) => err.message,
          ),
        'replica b to refuse',
      );
      const spendIn = (message: string) => {
        const m = new RegExp(`^ExceededBudget: Key=${alias} over budget\\. Spend=([\\d.]+), Budget=2$`).exec(message);
        assert.ok(m, message);
        return Number(m[1]);
      };
      assert.ok(spendIn(refusal) >= 2, refusal);
      // Both replicas converge on one total holding both charges (b's 0.5 and a's 2, plus what b
      // charged before it heard of a's): refusals charge nothing, so the totals stop moving.
      const onA = await a.client(key);
      const refusedWith = (c: typeof onA) =>
        c.callTool({ name: 'cheap', arguments: {} }).then(
          () => undefined,
          (err: Error) => spendIn(err.message),
        );
      await until(async () => {
        const [sa, sb] = [await refusedWith(onA), await refusedWith(onB)];
        return sa !== undefined && sa === sb && sa >= 2.5;
      }, 'both replicas to refuse with the same total');
    } finally {
      await onB.close();
    }
  });
});
