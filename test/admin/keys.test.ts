import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ENGINES, type EngineRun } from '../store/engines.js';
import { ADMIN_CONFIG, api, uid } from './api.js';

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
/** An MCP request with this key: 401 when the key is refused; anything else means it was accepted. */
const mcpStatus = async (gw: TestGateway, key: string) =>
  (await rawPost(gw.mcpUrl('/mcp/alpha'), INIT, { authorization: `Bearer ${key}` })).status;

for (const engine of ENGINES) {
  describe(`management API: keys (${engine.name})`, () => {
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

    test('generate returns the plaintext once; everything else shows sk-...abcd and the SHA-256 token', async () => {
      const alias = 'dev-' + uid();
      const g = await api(gw, 'POST', '/key/generate', { key_alias: alias, metadata: { owner: 'ana' }, rpm_limit: 10, max_budget: 5 });
      assert.equal(g.status, 200, g.text);
      const key: string = g.json.key;
      assert.match(key, /^sk-[A-Za-z0-9_-]{22,}$/);
      assert.ok(Buffer.from(key.slice(3), 'base64url').length >= 16, 'at least 128 random bits');
      assert.equal(g.json.token, createHash('sha256').update(key).digest('hex'));
      assert.equal(g.json.key_name, `sk-...${key.slice(-4)}`);
      assert.equal(g.json.rpm_limit, 10);
      assert.equal(g.json.max_budget, 5);

      const info = await api(gw, 'GET', `/key/info?key=${encodeURIComponent(key)}`);
      assert.equal(info.status, 200);
      assert.equal(info.json.info.key_alias, alias);
      const list = await api(gw, 'GET', '/key/list?return_full_object=true');
      const tokens = await api(gw, 'GET', '/key/list');
      assert.ok(tokens.json.keys.includes(g.json.token));
      for (const r of [info, list, tokens]) assert.ok(!r.text.includes(key), 'plaintext never shown again');
      assert.notEqual(await mcpStatus(gw, key), 401);
    });

    test('a custom key must start with sk-; bad fields get 400 naming the field and what is allowed', async () => {
      const bad = await api(gw, 'POST', '/key/generate', { key: 'mykey-1234567890abcdef' });
      assert.equal(bad.status, 400);
      assert.deepEqual(Object.keys(bad.json.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(bad.json.error.param, 'key');
      assert.equal(bad.json.error.code, '400');
      assert.match(bad.json.error.message, /sk-/);
      const unknown = await api(gw, 'POST', '/key/generate', { kye_alias: 'x' });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.error.param, 'kye_alias');
      assert.match(unknown.json.error.message, /allowed fields: .*key_alias/);
      const dur = await api(gw, 'POST', '/key/generate', { duration: 'soon' });
      assert.equal(dur.json.error.param, 'duration');
      assert.match(dur.json.error.message, /30s/);
      const server = await api(gw, 'POST', '/key/generate', { object_permission: { mcp_servers: ['alhpa'] } });
      assert.equal(server.status, 400);
      assert.match(server.json.error.message, /unknown server "alhpa"; configured servers: alpha, beta, gamma, pub/);
      const custom = await api(gw, 'POST', '/key/generate', { key: 'sk-custom-' + uid() + '-0123456789' });
      assert.equal(custom.status, 200);
      assert.equal(await api(gw, 'POST', '/key/generate', { key: custom.json.key }).then((r) => r.status), 400);
    });

    test('401 without a key or with a wrong one; 403 for a non-admin key except its own /key/info; 404 for an unknown key', async () => {
      assert.equal((await api(gw, 'GET', '/key/list', undefined, null)).status, 401);
      const wrong = await api(gw, 'GET', '/key/list', undefined, 'sk-not-a-key-000000000000');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error.code, '401');
      const own = await api(gw, 'POST', '/key/generate', {});
      const other = await api(gw, 'POST', '/key/generate', {});
      const denied = await api(gw, 'POST', '/key/generate', {}, own.json.key);
      assert.equal(denied.status, 403);
      assert.match(denied.json.error.message, /proxy admin/);
      assert.equal((await api(gw, 'GET', '/key/info', undefined, own.json.key)).status, 200);
      assert.equal((await api(gw, 'GET', `/key/info?key=${own.json.token}`, undefined, own.json.key)).status, 200);
      assert.equal((await api(gw, 'GET', `/key/info?key=${other.json.token}`, undefined, own.json.key)).status, 403);
      assert.equal((await api(gw, 'GET', `/key/info?key=${'0'.repeat(64)}`)).status, 404);
      assert.equal((await api(gw, 'POST', '/key/block', { key: 'f'.repeat(64) })).status, 404);
    });

    test("a proxy_admin user's key is an admin", async () => {
      const u = await api(gw, 'POST', '/user/new', { user_id: 'admin-' + uid(), user_role: 'proxy_admin' });
      assert.equal(u.status, 200, u.text);
      assert.match(u.json.key, /^sk-/);
      assert.equal((await api(gw, 'POST', '/key/generate', {}, u.json.key)).status, 200);
      const plain = await api(gw, 'POST', '/user/new', { user_id: 'dev-' + uid(), user_role: 'internal_user' });
      assert.equal((await api(gw, 'POST', '/key/generate', {}, plain.json.key)).status, 403);
      const role = await api(gw, 'POST', '/user/new', { user_role: 'superuser' });
      assert.equal(role.json.error.param, 'user_role');
      assert.match(role.json.error.message, /proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer/);
    });

    test('a malformed percent-encoding in a path parameter is a 400 naming the path, with or without a key', async () => {
      for (const [method, path] of [
        ['POST', '/key/%zz/regenerate'],
        ['GET', '/v1/mcp/server/%'],
        ['DELETE', '/v1/mcp/server/%E0%A4%A'],
      ] as const) {
        for (const key of [undefined, null] as const) {
          const r = await api(gw, method, path, undefined, key);
          assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
          assert.equal(r.json.error.param, 'path');
          assert.match(r.json.error.message, /malformed percent-encoding/);
        }
      }
    });

    test("a proxy_admin_viewer user's key reads the management API and changes nothing", async () => {
      const v = await api(gw, 'POST', '/user/new', { user_id: 'viewer-' + uid(), user_role: 'proxy_admin_viewer' });
      assert.equal(v.status, 200, v.text);
      const other = await api(gw, 'POST', '/key/generate', { key_alias: 'seen-' + uid() });
      for (const path of ['/key/list', `/key/info?key=${other.json.token}`, '/team/list', '/user/list', '/organization/list', '/audit']) {
        const r = await api(gw, 'GET', path, undefined, v.json.key);
        assert.equal(r.status, 200, `${path}: ${r.text}`);
      }
      for (const [method, path, body] of [
        ['POST', '/key/generate', {}],
        ['POST', '/key/block', { key: other.json.token }],
        ['POST', '/team/new', {}],
        ['POST', '/user/delete', { user_ids: [v.json.user_id] }],
      ] as const) {
        const r = await api(gw, method, path, body, v.json.key);
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
        assert.match(r.json.error.message, /proxy_admin_viewer key may only read/);
      }
      assert.equal((await api(gw, 'GET', `/key/info?key=${other.json.token}`)).json.info.blocked, false, 'the block did not happen');
    });

    test('granting a key a server its team does not allow is a 403 naming both lists', async () => {
      const team = await api(gw, 'POST', '/team/new', { team_alias: 'eng', object_permission: { mcp_servers: ['alpha'] } });
      assert.equal(team.status, 200, team.text);
      const r = await api(gw, 'POST', '/key/generate', {
        team_id: team.json.team_id,
        object_permission: { mcp_servers: ['alpha', 'beta'] },
      });
      assert.equal(r.status, 403);
      assert.equal(
        r.json.error.message,
        `Key requests MCP servers not allowed by team '${team.json.team_id}': ["beta"]. Team allows: ["alpha"]. Global (allow_all_keys) servers: ["pub"]`,
      );
      const ok = await api(gw, 'POST', '/key/generate', {
        team_id: team.json.team_id,
        object_permission: { mcp_servers: ['alpha', 'pub'] },
      });
      assert.equal(ok.status, 200);
      const up = await api(gw, 'POST', '/key/update', { key: ok.json.token, object_permission: { mcp_servers: ['gamma'] } });
      assert.equal(up.status, 403);
      const noTeam = await api(gw, 'POST', '/key/generate', { team_id: 'no-such-team' });
      assert.equal(noTeam.status, 400);
      assert.equal(noTeam.json.error.param, 'team_id');
    });

    test('block, unblock, delete (by key and by alias) and regenerate take effect at the next MCP request', async () => {
      const a = await api(gw, 'POST', '/key/generate', {});
      assert.notEqual(await mcpStatus(gw, a.json.key), 401);
      assert.equal((await api(gw, 'POST', '/key/block', { key: a.json.key })).json.blocked, true);
      const blocked = await rawPost(gw.mcpUrl('/mcp/alpha'), INIT, { authorization: `Bearer ${a.json.key}` });
      assert.equal(blocked.status, 401);
      assert.match(blocked.text, /blocked/);
      await api(gw, 'POST', '/key/unblock', { key: a.json.token });
      assert.notEqual(await mcpStatus(gw, a.json.key), 401);

      const re = await api(gw, 'POST', `/key/${a.json.token}/regenerate`, {});
      assert.equal(re.status, 200, re.text);
      assert.notEqual(re.json.key, a.json.key);
      assert.equal(await mcpStatus(gw, a.json.key), 401);
      assert.notEqual(await mcpStatus(gw, re.json.key), 401);

      const d = await api(gw, 'POST', '/key/delete', { keys: [re.json.key] });
      assert.deepEqual(d.json.deleted_keys, [re.json.token]);
      assert.equal(await mcpStatus(gw, re.json.key), 401);

      const alias = 'ci-' + uid();
      const b = await api(gw, 'POST', '/key/generate', { key_alias: alias });
      assert.equal((await api(gw, 'POST', '/key/delete', { key_aliases: [alias] })).status, 200);
      assert.equal(await mcpStatus(gw, b.json.key), 401);
      assert.equal((await api(gw, 'POST', '/key/delete', { key_aliases: [alias] })).status, 404);
    });

    test('an expired key gets 401 naming its expiry, on MCP and management routes', async () => {
      const past = new Date(Date.now() - 60_000).toISOString();
      const k = await api(gw, 'POST', '/key/generate', { expires: past });
      assert.equal(k.status, 200, k.text);
      const r = await rawPost(gw.mcpUrl('/mcp/alpha'), INIT, { authorization: `Bearer ${k.json.key}` });
      assert.equal(r.status, 401);
      assert.match(r.text, /Expired Key\. Key Expiry time \d{4}-/);
      const m = await api(gw, 'GET', '/key/info', undefined, k.json.key);
      assert.equal(m.status, 401);
      assert.equal(m.json.error.type, 'expired_key');
      // Extending it brings it back.
      await api(gw, 'POST', '/key/update', { key: k.json.token, duration: '1h' });
      assert.notEqual(await mcpStatus(gw, k.json.key), 401);
    });
  });
}
