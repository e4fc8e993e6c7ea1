import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { rawPost, TEST_KEY } from '../helpers/gateway.js';
import { ENGINES } from '../store/engines.js';
import { create, spendRig, type SpendRig } from './rig.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';

function refusedWith(pattern: RegExp) {
  return (err: Error) => {
    assert.match(err.message, pattern);
    return true;
  };
}

for (const engine of ENGINES) {
  describe(`budgets, ${engine.name} store`, () => {
    let rig: SpendRig;
    before(async () => {
      rig = await spendRig(await engine.run());
    });
    after(() => rig?.close());

    it("a key's max_budget refuses the call before the upstream once spend reaches it (LiteLLM's message)", async () => {
      const alias = 'k-' + uid();
      const c = await rig.client(await rig.key({ key_alias: alias, max_budget: 1 }));
      await c.callTool({ name: 'cheap', arguments: {} });
      await c.callTool({ name: 'cheap', arguments: {} });
      const reached = rig.paid.calls.length;
      await assert.rejects(
        c.callTool({ name: 'cheap', arguments: {} }),
        refusedWith(new RegExp(`ExceededBudget: Key=${alias} over budget\\. Spend=1, Budget=1`)),
      );
      assert.equal(rig.paid.calls.length, reached, 'the refused call never reached the upstream');
    });

    it("a team's max_budget is shared by all its keys: Team=<id>", async () => {
      const team = await create(rig.gw, '/team/new', { team_id: 't-' + uid(), max_budget: 2 });
      const a = await rig.client(await rig.key({ team_id: team }));
      const b = await rig.client(await rig.key({ team_id: team }));
      await a.callTool({ name: 'dear', arguments: {} });
      await assert.rejects(
        b.callTool({ name: 'cheap', arguments: {} }),
        refusedWith(new RegExp(`ExceededBudget: Team=${team} over budget\\. Spend=2, Budget=2`)),
      );
    });

    it("a user's max_budget: User=<id>", async () => {
      const user = await create(rig.gw, '/user/new', { user_id: 'u-' + uid(), max_budget: 0.5 });
      const c = await rig.client(await rig.key({ user_id: user }));
      await c.callTool({ name: 'cheap', arguments: {} });
      await assert.rejects(
        c.callTool({ name: 'cheap', arguments: {} }),
        refusedWith(new RegExp(`ExceededBudget: User=${user} over budget`)),
      );
    });

    it("an organization's max_budget: Organization=<id>", async () => {
      const org = await create(rig.gw, '/organization/new', { organization_id: 'o-' + uid(), max_budget: 0.5 });
      const c = await rig.client(await rig.key({ organization_id: org }));
      await c.callTool({ name: 'cheap', arguments: {} });
      await assert.rejects(
        c.callTool({ name: 'cheap', arguments: {} }),
        refusedWith(new RegExp(`ExceededBudget: Organization=${org} over budget\\. Spend=0.5, Budget=0.5`)),
      );
    });

    it('free tools cost nothing, so they never use up a budget; a server without mcp_info is free', async () => {
      const c = await rig.client(await rig.key({ max_budget: 0.1 }));
      for (let i = 0; i < 3; i++) await c.callTool({ name: 'free', arguments: {} });
      const other = await rig.client((await rig.key({ max_budget: 0.1 })) as string, '/mcp/other');
      for (let i = 0; i < 3; i++) await other.callTool({ name: 'plain', arguments: {} });
    });

    it('the sessionless 2026-07-28 path answers HTTP 402 with -32034 and type budget_exceeded', async () => {
      const key = await rig.key({ max_budget: 0 });
      const call = JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'cheap', arguments: {}, _meta: { [PV]: '2026-07-28', [CAPS]: {} } },
      });
      const r = await rawPost(rig.gw.mcpUrl('/mcp/paid'), call, {
        authorization: `Bearer ${key}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'cheap',
      });
      assert.equal(r.status, 402, r.text);
      assert.equal(r.json.error.code, -32034);
      assert.equal(r.json.error.data.type, 'budget_exceeded');
      assert.match(r.json.error.message, /^ExceededBudget: Key=sk-\S+ over budget\. Spend=0, Budget=0$/);
      assert.ok(!r.text.includes(key), 'the key is not in the refusal');
    });

    it('the aggregate /mcp refuses an over-budget key too', async () => {
      const c = await rig.client(await rig.key({ max_budget: 0 }), '/mcp');
      await assert.rejects(c.callTool({ name: 'paid-cheap', arguments: {} }), refusedWith(/ExceededBudget: Key=/));
    });

    it('the master key has no budget and its calls are logged as api_key master', async () => {
      const c = await rig.client(TEST_KEY);
      await c.callTool({ name: 'dear', arguments: {} });
      const rows = await rig.logs('api_key=master&tool=paid/dear', 1);
      assert.equal(rows[0].spend, 2);
      const r = await api(rig.gw, 'GET', '/spend/logs?api_key=master');
      assert.equal(r.status, 200);
    });
  });
}
