import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, uid } from '../admin/api.js';
import { connectClient, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { ENGINES, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { startServersGateway } from './setup.js';

for (const engine of ENGINES) {
  describe(`servers API (${engine.name})`, () => {
    let run: EngineRun;
    let store: Store;
    let gw: TestGateway;
    let upstream: HeaderRecorder;
    let devKey: string;

    before(async () => {
      run = await engine.run();
      store = await run.open();
      gw = await startServersGateway(store);
      upstream = await startHeaderRecorder();
      const dev = await api(gw, 'POST', '/key/generate', { key_alias: 'dev-' + uid() });
      devKey = dev.json.key;
    });
    after(async () => {
      await gw?.close();
      await upstream?.stop();
      await store?.close();
      await run?.cleanup();
    });

    test('POST registers a server (201) that is callable through /mcp/{name} at once', async () => {
      const name = 'echo_' + uid();
      const r = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url, description: 'records headers' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.server_name, name);
      assert.equal(r.json.transport, 'http');
      assert.equal(r.json.source, 'db');
      assert.match(r.json.server_id, /^[0-9a-f-]{36}$/);
      const client = await connectClient(gw.mcpUrl(`/mcp/${name}`));
      try {
        const out = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
        assert.equal(textOf(out), '{"message":"hi"}');
      } finally {
        await client.close();
      }
      const audit = await api(gw, 'GET', `/audit?object_type=server&object_id=${r.json.server_id}`);
      assert.equal(audit.json.entries[0].action, 'mcp_server.new');
    });

    test('validation is config.yaml validation: field path, bad value, what is allowed', async () => {
      const bad = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'b_' + uid(), url: 'ftp://example.com/mcp' });
      assert.equal(bad.status, 400);
      assert.deepEqual(Object.keys(bad.json.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(bad.json.error.param, 'url');
      assert.equal(bad.json.error.message, 'url: must be an absolute http:// or https:// URL (got "ftp://example.com/mcp")');
      const auth = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'b_' + uid(), url: upstream.url, auth_type: 'magic' });
      assert.equal(auth.json.error.param, 'auth_type');
      assert.match(auth.json.error.message, /^auth_type: got "magic"; allowed: none, api_key, bearer_token/);
      const transport = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'b_' + uid(),
        url: upstream.url,
        transport: 'carrier-pigeon',
      });
      assert.equal(transport.json.error.message, 'transport: got "carrier-pigeon"; allowed: http, sse, stdio');
      const groups = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'b_' + uid(), url: upstream.url, mcp_access_groups: [''] });
      assert.equal(groups.json.error.param, 'mcp_access_groups[0]');
      const secret = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'b_' + uid(),
        url: upstream.url,
        auth_type: 'oauth2',
        oauth2_flow: 'client_credentials',
        credentials: { client_id: 'c' },
      });
      assert.equal(secret.json.error.param, 'credentials.client_secret');
      assert.equal(secret.json.error.message, 'credentials.client_secret: is required for oauth2 client_credentials');
      const name = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'has space', url: upstream.url });
      assert.equal(name.json.error.param, 'server_name');
      assert.match(name.json.error.message, /cannot be used in URLs and tool-name prefixes/);
      assert.equal((await api(gw, 'POST', '/v1/mcp/server', { url: upstream.url })).json.error.param, 'server_name');
      const ref = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'b_' + uid(),
        url: upstream.url,
        static_headers: { 'x-key': 'os.environ/TOOLGATE_SALT_KEY' },
      });
      assert.equal(ref.json.error.param, 'static_headers.x-key');
      assert.match(ref.json.error.message, /os\.environ\/ references are not read for servers stored through the API/);
      const typo = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'b_' + uid(), url: upstream.url, alowed_tools: ['x'] });
      assert.equal(typo.json.error.message, 'alowed_tools: unknown field (did you mean allowed_tools?)');
      const cred = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'b_' + uid(),
        url: upstream.url,
        credentials: { auth_valu: 'x' },
      });
      assert.equal(cred.json.error.param, 'credentials.auth_valu');
      const litellm = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'b_' + uid(),
        url: upstream.url,
        mcp_info: { server_name: 'x' },
        spec_path: 'x',
      });
      assert.equal(litellm.status, 201, 'LiteLLM fields Toolgate does not act on are accepted, as in config.yaml');
      assert.deepEqual(litellm.json.mcp_info, { server_name: 'x' });
      const priced = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'c_' + uid(),
        url: upstream.url,
        mcp_info: { mcp_server_cost_info: { default_cost_per_query: 0.5 } },
      });
      assert.equal(priced.status, 201, priced.text);
      assert.equal(
        gw.registry.get(priced.json.server_name)?.config.mcpInfo?.costInfo?.defaultCostPerQuery,
        0.5,
        "mcp_info read by config.yaml's rules",
      );
      const badPrice = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 'c_' + uid(),
        url: upstream.url,
        mcp_info: { mcp_server_cost_info: { default_cost_per_query: 'free' } },
      });
      assert.equal(badPrice.status, 400);
      assert.match(badPrice.json.error.param, /^mcp_info/);
      assert.equal((await api(gw, 'POST', '/v1/mcp/server', { server_name: 'x', credentials: 'nope' })).json.error.param, 'credentials');
    });

    test("a name taken by a config server, a stored server, or another server's prefix is a 400", async () => {
      const cfg = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'from_config', url: upstream.url });
      assert.equal(cfg.status, 400);
      assert.match(cfg.json.error.message, /config\.yaml server/);
      const name = 'dup_' + uid();
      assert.equal((await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url })).status, 201);
      const again = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url });
      assert.equal(again.status, 400);
      assert.match(again.json.error.message, /already exists/);
      const prefix = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'p_' + uid(), alias: name, url: upstream.url });
      assert.equal(prefix.json.error.param, 'alias');
      const raced = 'race_' + uid();
      const both = await Promise.all([1, 2].map(() => api(gw, 'POST', '/v1/mcp/server', { server_name: raced, url: upstream.url })));
      assert.deepEqual(both.map((r) => r.status).sort(), [201, 400], 'two writers racing for a name: one wins, the other gets a 400');
      const id = 'fixed-' + uid();
      assert.equal((await api(gw, 'POST', '/v1/mcp/server', { server_id: id, server_name: 'i_' + uid(), url: upstream.url })).status, 201);
      const sameId = await api(gw, 'POST', '/v1/mcp/server', { server_id: id, server_name: 'j_' + uid(), url: upstream.url });
      assert.equal(sameId.json.error.param, 'server_id');
    });

    test('PUT changes a server (202) and DELETE removes it (202); config servers are not theirs to change', async () => {
      const name = 'chg_' + uid();
      const made = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url, allowed_tools: ['nothing'] });
      const id = made.json.server_id;
      const put = await api(gw, 'PUT', '/v1/mcp/server', { server_id: id, allowed_tools: null, description: 'now all tools' });
      assert.equal(put.status, 202, put.text);
      assert.equal(put.json.description, 'now all tools');
      assert.equal(put.json.allowed_tools, null);
      assert.equal(put.json.url, upstream.url, 'fields not sent are kept');
      const client = await connectClient(gw.mcpUrl(`/mcp/${name}`));
      try {
        assert.deepEqual(
          (await client.listTools()).tools.map((t) => t.name),
          ['echo'],
        );
      } finally {
        await client.close();
      }
      const roundTrip = await api(gw, 'PUT', '/v1/mcp/server', (await api(gw, 'GET', `/v1/mcp/server/${id}`)).json);
      assert.equal(roundTrip.status, 202, `what GET shows can be sent back: ${roundTrip.text}`);
      const badPut = await api(gw, 'PUT', '/v1/mcp/server', { server_id: id, url: 'not a url' });
      assert.equal(badPut.json.error.param, 'url');
      assert.equal((await api(gw, 'PUT', '/v1/mcp/server', { url: upstream.url })).json.error.param, 'server_id');
      assert.equal((await api(gw, 'PUT', '/v1/mcp/server', { server_id: 'nope-' + uid() })).status, 404);
      assert.equal((await api(gw, 'PUT', '/v1/mcp/server', { server_id: 'from_config' })).status, 400);
      const del = await api(gw, 'DELETE', `/v1/mcp/server/${id}`);
      assert.equal(del.status, 202, del.text);
      assert.equal(gw.registry.has(name), false, 'removed before the answer');
      assert.equal((await api(gw, 'DELETE', `/v1/mcp/server/${id}`)).status, 404);
      assert.equal((await api(gw, 'DELETE', '/v1/mcp/server/from_config')).status, 400);
    });

    test('GET /v1/mcp/server/{id} runs a live health check; GET /v1/mcp/tools lists tools by server', async () => {
      const name = 'h_' + uid();
      const made = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url });
      const one = await api(gw, 'GET', `/v1/mcp/server/${made.json.server_id}`);
      assert.equal(one.status, 200, one.text);
      assert.equal(one.json.status, 'healthy');
      assert.ok(!Number.isNaN(Date.parse(one.json.last_health_check)));
      assert.equal((await api(gw, 'GET', `/v1/mcp/server/${name}`)).json.server_id, made.json.server_id, 'by name too');
      const down = await api(gw, 'GET', '/v1/mcp/server/from_config');
      assert.equal(down.json.status, 'unhealthy');
      assert.equal(typeof down.json.health_check_error, 'string');
      assert.equal((await api(gw, 'GET', '/v1/mcp/server/nope')).status, 404);
      const tools = await api(gw, 'GET', `/v1/mcp/tools?server_id=${made.json.server_id}`);
      assert.equal(tools.status, 200, tools.text);
      assert.deepEqual(
        tools.json.tools.map((t: any) => [t.name, t.mcp_info.server_name]),
        [['echo', name]],
      );
      const all = await api(gw, 'GET', '/v1/mcp/tools');
      assert.ok(all.json.errors.some((e: any) => e.server_name === 'from_config'));
    });

    test('writes are for admins (403); reads show a key only its servers, without url, headers, env or command', async () => {
      const name = 'vis_' + uid();
      const w = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url }, devKey);
      assert.equal(w.status, 403);
      assert.match(
        w.json.error.message,
        /^User does not have permission to create mcp servers\. You can only create mcp servers if you are a PROXY_ADMIN/,
      );
      assert.equal((await api(gw, 'PUT', '/v1/mcp/server', { server_id: name }, devKey)).status, 403);
      assert.equal((await api(gw, 'DELETE', '/v1/mcp/server/from_config', undefined, devKey)).status, 403);
      await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: upstream.url, static_headers: { 'x-team': 'a' } });
      const hidden = 'hid_' + uid();
      await api(gw, 'POST', '/v1/mcp/server', { server_name: hidden, url: upstream.url });
      const scoped = await api(gw, 'POST', '/key/generate', { object_permission: { mcp_servers: [name] } });
      const list = await api(gw, 'GET', '/v1/mcp/server', undefined, scoped.json.key);
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(
        list.json.map((s: any) => s.server_name),
        [name],
      );
      for (const field of ['url', 'static_headers', 'env', 'command', 'args', 'credentials', 'extra_headers'])
        assert.equal(field in list.json[0], false, field);
      assert.equal((await api(gw, 'GET', `/v1/mcp/server/${hidden}`, undefined, scoped.json.key)).status, 404);
      const tools = await api(gw, 'GET', '/v1/mcp/tools', undefined, scoped.json.key);
      assert.deepEqual([...new Set(tools.json.tools.map((t: any) => t.mcp_info.server_name))], [name]);
      const adminUser = await api(gw, 'POST', '/user/new', { user_id: 'admin-' + uid(), user_role: 'proxy_admin' });
      const byAdminUser = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'au_' + uid(), url: upstream.url }, adminUser.json.key);
      assert.equal(byAdminUser.status, 201, "a proxy_admin user's key may write");
      const adminView = await api(gw, 'GET', '/v1/mcp/server');
      const mine = adminView.json.find((s: any) => s.server_name === name);
      assert.equal(mine.url, upstream.url);
      assert.deepEqual(mine.static_headers, { 'x-team': '***' });
      assert.ok(adminView.json.some((s: any) => s.server_name === 'from_config' && s.source === 'config'));
    });
  });
}

describe('servers API without store_model_in_db or a salt key', () => {
  test('writes answer 400 naming the setting; config servers still list', async () => {
    const gw = await startTestGateway('mcp_servers:\n  cfg: { url: "http://127.0.0.1:9/mcp" }\n');
    try {
      const r = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'x', url: 'http://127.0.0.1:9/mcp' });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.param, 'store_model_in_db');
      assert.match(r.json.error.message, /general_settings\.store_model_in_db: true.*STORE_MODEL_IN_DB=True/);
      assert.deepEqual(
        (await api(gw, 'GET', '/v1/mcp/server')).json.map((s: any) => s.server_name),
        ['cfg'],
      );
    } finally {
      await gw.close();
    }
  });

  test('STORE_MODEL_IN_DB=True turns it on; a credential without a salt key is a 400 naming both variables', async () => {
    const run = await ENGINES[0].run();
    const store = await run.open();
    const gw = await startTestGateway(
      'toolgate_settings: { upstream_allowlist: ["127.0.0.1"] }\nmcp_servers: {}\n',
      { STORE_MODEL_IN_DB: 'True', TOOLGATE_SALT_KEY: '', LITELLM_SALT_KEY: '' },
      0,
      {
        store,
      },
    );
    try {
      const r = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 's_' + uid(),
        url: 'http://127.0.0.1:9/mcp',
        auth_type: 'bearer_token',
        credentials: { auth_value: 'tok-123' },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.param, 'credentials');
      assert.match(r.json.error.message, /TOOLGATE_SALT_KEY.*LITELLM_SALT_KEY/);
      const plain = await api(gw, 'POST', '/v1/mcp/server', { server_name: 's_' + uid(), url: 'http://127.0.0.1:9/mcp' });
      assert.equal(plain.status, 201, plain.text);
    } finally {
      await gw.close();
      await store.close();
      await run.cleanup();
    }
  });
});
