import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { hashKey } from '../../src/caller/key-format.js';
import { ENGINES } from '../store/engines.js';
import { rawPost, startTestGateway, TEST_KEY } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { create, PRICES_YAML, spendRig, UPSTREAM_CANARY, type SpendRig } from './rig.js';

for (const engine of ENGINES) {
  describe(`spend logs, ${engine.name} store`, () => {
    let rig: SpendRig;
    before(async () => {
      rig = await spendRig(await engine.run());
    });
    after(() => rig?.close());

    it('one row per call and per listing, with the key, team, user, organization, server, tool, outcome, durations and cost', async () => {
      const org = await create(rig.gw, '/organization/new', { organization_id: 'o-' + uid() });
      const team = await create(rig.gw, '/team/new', { team_id: 't-' + uid(), organization_id: org });
      const user = await create(rig.gw, '/user/new', { user_id: 'u-' + uid() });
      const alias = 'logs-' + uid();
      const key = await rig.key({ key_alias: alias, team_id: team, user_id: user });
      const c = await rig.client(key);
      await c.listTools();
      await c.callTool({ name: 'cheap', arguments: {} });
      await c.callTool({ name: 'dear', arguments: {} });
      await c.callTool({ name: 'free', arguments: {} });
      // Not one of the server's tools: the upstream answers an error (it was reached, so it is priced at the default).
      await assert.rejects(c.callTool({ name: 'missing', arguments: {} }));
      const rows = await rig.logs(`api_key=${encodeURIComponent(key)}`, 5);
      assert.equal(rows.length, 5);
      const byTool = new Map(rows.map((r) => [r.mcp_namespaced_tool_name, r]));
      assert.equal(byTool.get('paid/cheap').spend, 0.5, 'the default price');
      assert.equal(byTool.get('paid/dear').spend, 2, "the tool's own price");
      assert.equal(byTool.get('paid/free').spend, 0, 'a tool priced 0');
      assert.equal(byTool.get('paid/missing').outcome, 'error');
      const list = byTool.get(null);
      assert.equal(list.call_type, 'list_mcp_tools');
      assert.equal(list.mcp_server_name, 'paid');
      const r = byTool.get('paid/dear');
      assert.equal(r.call_type, 'call_mcp_tool');
      assert.equal(r.outcome, 'ok');
      assert.equal(r.api_key, hashKey(key));
      assert.equal(r.key_alias, alias);
      assert.equal(r.team_id, team);
      assert.equal(r.user, user);
      assert.equal(r.organization_id, org);
      assert.equal(r.mcp_server_name, 'paid');
      assert.match(r.request_id, /^[0-9a-f-]{36}$/);
      assert.ok(r.upstream_ms >= 0 && r.total_ms >= r.upstream_ms, 'upstream time within the total');
      assert.ok(Date.parse(r.endTime) >= Date.parse(r.startTime));
      // Newest first.
      const times = rows.map((x) => Date.parse(x.startTime));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
      // Canaries: neither the key nor the upstream's credential is in a row, the store, an answer or the log.
      const stored = await rig.store.query(
        `SELECT (SELECT json_agg(l)::text FROM toolgate_spend_logs l) AS logs, (SELECT json_agg(s)::text FROM toolgate_spend s) AS spend`,
      );
      const info = await api(rig.gw, 'GET', `/key/info?key=${hashKey(key)}`);
      for (const [what, text] of [
        ['the rows', JSON.stringify(rows)],
        ['the store', JSON.stringify(stored)],
        ['/key/info', info.text],
        ['the log', rig.gw.logs.join('')],
      ] as const) {
        assert.ok(!text.includes(key), `the key is not in ${what}`);
        assert.ok(!text.includes(UPSTREAM_CANARY), `the upstream credential is not in ${what}`);
      }
    });

    it('refusals are rows too: denied (a tool outside the grants) and over_budget, at no cost', async () => {
      const denied = await rig.key({ object_permission: { mcp_servers: ['paid'], mcp_tool_permissions: { paid: ['cheap'] } } });
      const c = await rig.client(denied);
      await assert.rejects(c.callTool({ name: 'dear', arguments: {} }));
      const broke = await rig.key({ max_budget: 0 });
      const b = await rig.client(broke);
      await assert.rejects(b.callTool({ name: 'cheap', arguments: {} }));
      const [d] = await rig.logs(`api_key=${hashKey(denied)}&call_type=call_mcp_tool`, 1);
      assert.equal(d.outcome, 'denied');
      assert.equal(d.spend, 0);
      assert.equal(d.upstream_ms, null, 'never reached the upstream');
      const [o] = await rig.logs(`api_key=${hashKey(broke)}&call_type=call_mcp_tool`, 1);
      assert.equal(o.outcome, 'over_budget');
      assert.equal(o.spend, 0);
    });

    it('an aggregate listing on /mcp is one row naming its servers; calls there name the server and its tool', async () => {
      const key = await rig.key({ key_alias: 'agg-' + uid() });
      const c = await rig.client(key, '/mcp');
      await c.listTools();
      await c.callTool({ name: 'paid-dear', arguments: {} });
      const rows = await rig.logs(`api_key=${hashKey(key)}`, 2);
      const list = rows.find((r) => r.call_type === 'list_mcp_tools');
      assert.deepEqual(list.mcp_server_name.split(',').sort(), ['other', 'paid']);
      const call = rows.find((r) => r.call_type === 'call_mcp_tool');
      assert.equal(call.mcp_namespaced_tool_name, 'paid/dear');
      assert.equal(call.spend, 2);
      const onOther = await api(rig.gw, 'GET', `/spend/logs?api_key=${hashKey(key)}&server=other`);
      assert.equal(onOther.json.data.length, 1, 'the listing names other too');
      // A name no server in scope lists is refused before any server: still a row, as the client named it.
      await assert.rejects(c.callTool({ name: 'paid-nope', arguments: {} }));
      const [unknown] = await rig.logs(`api_key=${hashKey(key)}&outcome=denied`, 1);
      assert.equal(unknown.mcp_namespaced_tool_name, 'paid-nope');
      assert.deepEqual(unknown.mcp_server_name.split(',').sort(), ['other', 'paid']);
      assert.equal(unknown.spend, 0);
    });

    it('a tool name with commas, quotes, a newline, U+0000 and a lone surrogate is stored, and the batch with it is too', async () => {
      const key = await rig.key({ key_alias: 'odd-' + uid() });
      const c = await rig.client(key);
      const odd = 'a,"b"\nc\u0000d\ud800e';
      await assert.rejects(c.callTool({ name: odd, arguments: {} }));
      await c.callTool({ name: 'cheap', arguments: {} });
      const rows = await rig.logs(`api_key=${hashKey(key)}`, 2);
      const names = rows.map((r) => r.mcp_namespaced_tool_name).sort();
      // Text cannot hold the last two: each is U+FFFD; the rest is kept as the client sent it.
      assert.deepEqual(names, ['paid/a,"b"\nc\ufffdd\ufffde', 'paid/cheap']);
    });

    it('filters by key, team, user, server, tool, request id and time, and pages newest first', async () => {
      const team = await create(rig.gw, '/team/new', { team_id: 'f-' + uid() });
      const user = await create(rig.gw, '/user/new', { user_id: 'fu-' + uid() });
      const key = await rig.key({ team_id: team, user_id: user });
      const c = await rig.client(key);
      const started = new Date().toISOString();
      for (let i = 0; i < 5; i++) await c.callTool({ name: 'cheap', arguments: {} });
      await c.callTool({ name: 'dear', arguments: {} });
      const all = await rig.logs(`team_id=${team}`, 6);
      assert.equal(all.length, 6);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?user_id=${user}`)).json.total, 6);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&tool=dear`)).json.total, 1);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&tool=paid/cheap`)).json.total, 5);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&server=other`)).json.total, 0);
      const one = await api(rig.gw, 'GET', `/spend/logs?request_id=${all[2].request_id}`);
      assert.deepEqual(one.json.data, [all[2]]);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&start_date=${started}`)).json.total, 6);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&end_date=${started}`)).json.total, 0);
      const today = started.slice(0, 10);
      assert.equal((await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&start_date=${today}&end_date=${today}`)).json.total, 6);
      const p1 = (await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&page_size=4`)).json;
      const p2 = (await api(rig.gw, 'GET', `/spend/logs?team_id=${team}&page_size=4&page=2`)).json;
      assert.deepEqual([p1.total, p1.page, p1.page_size, p1.total_pages], [6, 1, 4, 2]);
      assert.deepEqual([...p1.data, ...p2.data], all, 'the pages together are the newest-first list');
    });

    it('bad filters get a clear error; non-admin keys may not read spend logs', async () => {
      for (const [q, param] of [
        ['start_date=yesterday', 'start_date'],
        ['page=0', 'page'],
        ['page_size=5000', 'page_size'],
        ['api_key=nope', 'api_key'],
      ]) {
        const r = await api(rig.gw, 'GET', '/spend/logs?' + q);
        assert.equal(r.status, 400, q);
        assert.equal(r.json.error.param, param);
        assert.ok(r.json.error.message && r.json.error.type, 'LiteLLM error body');
      }
      const plain = await rig.key({});
      assert.equal((await api(rig.gw, 'GET', '/spend/logs', undefined, plain)).status, 403);
    });
  });
}

describe('a listing that fails is a row too', () => {
  it('tools/list on a server that is down: outcome error', async () => {
    const gw = await startTestGateway(
      PRICES_YAML('http://127.0.0.1:9/mcp', 'http://127.0.0.1:9/mcp') + '  down:\n    url: http://127.0.0.1:9/mcp\n',
    );
    try {
      const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
      const r = await rawPost(
        gw.mcpUrl('/mcp/down'),
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }),
        {
          authorization: `Bearer ${TEST_KEY}`,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/list',
        },
      );
      assert.ok(r.json?.error, r.text);
      const rows = await until(async () => {
        const got = await api(gw, 'GET', '/spend/logs?server=down&call_type=list_mcp_tools');
        return got.json.data.length > 0 && got.json.data;
      }, 'the listing row');
      assert.equal(rows[0].outcome, 'error');
      assert.equal(rows[0].api_key, 'master');
    } finally {
      await gw.close();
    }
  });
});
