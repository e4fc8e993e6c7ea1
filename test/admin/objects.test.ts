import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ENGINES, type EngineRun } from '../store/engines.js';
import { ADMIN_CONFIG, api, uid } from './api.js';

for (const engine of ENGINES) {
  describe(`management API: teams, organizations, users, audit (${engine.name})`, () => {
    let run: EngineRun;
    let gw: TestGateway;
    before(async () => {
      run = await engine.run();
      gw = await startTestGateway(ADMIN_CONFIG, {}, 0, { store: await run.open() });
    });
    after(async () => {
      await gw.close();
      await gw.store.close();
      await run.cleanup();
    });

    test('organizations: new, info, list, PATCH update, member_add, DELETE refused while teams remain', async () => {
      const o = await api(gw, 'POST', '/organization/new', {
        organization_alias: 'acme',
        object_permission: { mcp_servers: ['alpha', 'beta'] },
        max_budget: 100,
      });
      assert.equal(o.status, 200, o.text);
      const id = o.json.organization_id;
      assert.equal(o.json.max_budget, 100);
      assert.ok((await api(gw, 'GET', '/organization/list')).json.some((x: any) => x.organization_id === id));
      const up = await api(gw, 'PATCH', '/organization/update', { organization_id: id, organization_alias: 'acme2' });
      assert.equal(up.json.organization_alias, 'acme2');
      assert.equal((await api(gw, 'POST', '/organization/update', { organization_id: id })).status, 405);
      const user = await api(gw, 'POST', '/user/new', { user_id: 'u-' + uid(), auto_create_key: false });
      const m = await api(gw, 'POST', '/organization/member_add', {
        organization_id: id,
        member: { user_id: user.json.user_id, role: 'user' },
      });
      assert.equal(m.json.members.length, 1);
      const t = await api(gw, 'POST', '/team/new', { team_alias: 'in-acme', organization_id: id });
      assert.equal((await api(gw, 'GET', `/organization/info?organization_id=${id}`)).json.teams.length, 1);
      const refused = await api(gw, 'DELETE', '/organization/delete', { organization_ids: [id] });
      assert.equal(refused.status, 400);
      assert.match(refused.json.error.message, /still has teams/);
      await api(gw, 'POST', '/team/delete', { team_ids: [t.json.team_id] });
      assert.equal((await api(gw, 'DELETE', '/organization/delete', { organization_ids: [id] })).status, 200);
      assert.equal((await api(gw, 'GET', `/organization/info?organization_id=${id}`)).status, 404);
      assert.equal((await api(gw, 'POST', '/team/new', { organization_id: 'nope' })).json.error.param, 'organization_id');
    });

    test('teams: new, info with keys, list, update, member_add and member_delete; deleting a team deletes its keys', async () => {
      const user = await api(gw, 'POST', '/user/new', { user_id: 'm-' + uid(), auto_create_key: false });
      const t = await api(gw, 'POST', '/team/new', {
        team_alias: 'platform',
        object_permission: { mcp_access_groups: ['eng'] },
        rpm_limit: 60,
      });
      const team = t.json.team_id;
      assert.equal(t.json.rpm_limit, 60);
      const add = await api(gw, 'POST', '/team/member_add', { team_id: team, member: { role: 'admin', user_id: user.json.user_id } });
      assert.deepEqual(add.json.members_with_roles, [{ role: 'admin', user_id: user.json.user_id }]);
      const again = await api(gw, 'POST', '/team/member_add', { team_id: team, member: [{ role: 'user', user_id: user.json.user_id }] });
      assert.equal(again.json.members_with_roles.length, 1, 'adding twice changes the role, never duplicates');
      assert.equal((await api(gw, 'POST', '/team/member_add', { team_id: team, member: { user_id: 'ghost' } })).status, 400);
      assert.deepEqual((await api(gw, 'GET', `/user/info?user_id=${user.json.user_id}`)).json.teams, [team]);
      const k = await api(gw, 'POST', '/key/generate', { team_id: team });
      const info = await api(gw, 'GET', `/team/info?team_id=${team}`);
      assert.equal(info.json.team_info.team_alias, 'platform');
      assert.deepEqual(
        info.json.keys.map((x: any) => x.token),
        [k.json.token],
      );
      assert.ok(!info.text.includes(k.json.key));
      assert.equal((await api(gw, 'POST', '/team/update', { team_id: team, team_alias: 'plat' })).json.team_alias, 'plat');
      assert.equal(
        (await api(gw, 'POST', '/team/member_delete', { team_id: team, user_id: user.json.user_id })).json.members_with_roles.length,
        0,
      );
      assert.equal((await api(gw, 'POST', '/team/member_delete', { team_id: team, user_id: user.json.user_id })).status, 404);
      assert.ok((await api(gw, 'GET', '/team/list')).json.some((x: any) => x.team_id === team));
      assert.equal((await api(gw, 'POST', '/team/delete', { team_ids: [team] })).status, 200);
      const gone = await rawPost(gw.mcpUrl('/mcp/alpha'), '{}', { authorization: `Bearer ${k.json.key}` });
      assert.equal(gone.status, 401);
      assert.equal((await api(gw, 'GET', `/team/info?team_id=${team}`)).status, 404);
      assert.equal((await api(gw, 'GET', '/team/info')).json.error.param, 'team_id');
    });

    test('users: new (with a key), info, update, list, delete (which deletes their keys)', async () => {
      const id = 'ana-' + uid();
      const u = await api(gw, 'POST', '/user/new', { user_id: id, user_email: 'ana@example.com' });
      assert.equal(u.json.user_role, 'internal_user');
      assert.equal((await api(gw, 'POST', '/user/new', { user_id: id })).status, 400);
      const info = await api(gw, 'GET', `/user/info?user_id=${id}`);
      assert.equal(info.json.user_info.user_email, 'ana@example.com');
      assert.equal(info.json.keys.length, 1);
      assert.ok(!info.text.includes(u.json.key));
      assert.equal(
        (await api(gw, 'POST', '/user/update', { user_id: id, user_role: 'internal_user_viewer' })).json.user_role,
        'internal_user_viewer',
      );
      const list = await api(gw, 'GET', '/user/list?page_size=1000');
      assert.ok(list.json.users.some((x: any) => x.user_id === id));
      assert.equal((await api(gw, 'POST', '/user/delete', { user_ids: [id] })).status, 200);
      assert.equal((await rawPost(gw.mcpUrl('/mcp/alpha'), '{}', { authorization: `Bearer ${u.json.key}` })).status, 401);
      assert.equal((await api(gw, 'GET', `/user/info?user_id=${id}`)).status, 404);
    });

    test('every change is audited with actor, action, before/after, secrets masked; GET /audit filters', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const alias = 'audited-' + uid();
      const k = await api(gw, 'POST', '/key/generate', { key_alias: alias, metadata: { api_key: 'canary-secret-value-42' } });
      await api(gw, 'POST', '/key/block', { key: k.json.token });
      const a = await api(gw, 'GET', `/audit?object_type=key&object_id=${k.json.token}&since=${encodeURIComponent(since)}`);
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(
        a.json.entries.map((e: any) => e.action),
        ['key.block', 'key.generate'],
      );
      const block = a.json.entries[0];
      assert.equal(block.actor, 'master');
      assert.equal(block.before.blocked, false);
      assert.equal(block.after.blocked, true);
      assert.ok(!a.text.includes(k.json.key), 'no plaintext key in audit rows');
      assert.ok(!a.text.includes('canary-secret-value-42'), 'secret-looking metadata masked');
      assert.equal((await api(gw, 'GET', '/audit?actor=nobody')).json.count, 0);
      assert.equal((await api(gw, 'GET', '/audit?since=yesterday')).json.error.param, 'since');
      assert.equal((await api(gw, 'GET', '/audit', undefined, k.json.key)).status, 401);
      const viewer = await api(gw, 'POST', '/key/generate', {});
      assert.equal((await api(gw, 'GET', '/audit', undefined, viewer.json.key)).status, 403);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await api(gw, 'GET', `/audit?since=${encodeURIComponent(future)}`)).json.count, 0);
    });

    test('unknown management routes: 404; wrong method: 405 with Allow', async () => {
      assert.equal((await api(gw, 'GET', '/key/nope')).status, 404);
      const r = await fetch(gw.url + '/key/generate', { method: 'GET', headers: { authorization: 'Bearer x' } });
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'POST');
    });
  });
}
