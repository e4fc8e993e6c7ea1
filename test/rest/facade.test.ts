import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { startCatalogServer, stopAll, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

/**
 * LiteLLM's REST facade with virtual keys: the same access decision as the MCP path (grants,
 * tool permissions), LiteLLM's shapes, tool_server_mismatch and access_denied.
 */
describe('REST facade: /mcp-rest/tools/list and /mcp-rest/tools/call', () => {
  let github: CatalogServer;
  let jira: CatalogServer;
  let secret: CatalogServer;
  let gw: TestGateway;
  /** May use github, and jira's create_ticket only; not the secret server. */
  let key: string;

  before(async () => {
    [github, jira, secret] = await Promise.all([
      startCatalogServer({ name: 'github', tools: [tool('search_repos'), tool('get_issue')] }),
      startCatalogServer({ name: 'jira', tools: [tool('create_ticket'), tool('search')] }),
      startCatalogServer({ name: 'secret', tools: [tool('hidden_tool')] }),
    ]);
    gw = await startTestGateway(
      `mcp_servers:\n  github:\n    url: ${github.url}\n    allowed_params: { search_repos: [q] }\n  jira:\n    url: ${jira.url}\n  secret:\n    url: ${secret.url}\n`,
    );
    const k = await api(gw, 'POST', '/key/generate', {
      key_alias: `rest-${uid()}`,
      object_permission: { mcp_servers: ['github', 'jira'], mcp_tool_permissions: { jira: ['create_ticket'] } },
    });
    assert.equal(k.status, 200, k.text);
    key = k.json.key;
  });
  after(async () => {
    await gw?.close();
    await stopAll([github, jira, secret]);
  });

  const list = (query: string, with_: string | null = key) => api(gw, 'GET', `/mcp-rest/tools/list${query}`, undefined, with_);
  const call = (body: unknown, with_: string | null = key) => api(gw, 'POST', '/mcp-rest/tools/call', body, with_);
  const names = (tools: { name: string }[]) => tools.map((t) => t.name);

  it("lists one server's tools in LiteLLM's shape, with the server named on each", async () => {
    const r = await list('?server_id=github');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(names(r.json.tools), ['search_repos', 'get_issue']);
    assert.equal(r.json.error, null);
    assert.equal(typeof r.json.message, 'string');
    assert.deepEqual(r.json.tools[0].mcp_info, { server_name: 'github' });
    assert.ok(r.json.tools[0].inputSchema);
  });

  it('honours tool grants: jira shows only create_ticket to this key, everything to the master key', async () => {
    assert.deepEqual(names((await list('?server_id=jira')).json.tools), ['create_ticket']);
    assert.deepEqual(names((await list('?server_id=jira', TEST_KEY)).json.tools), ['create_ticket', 'search']);
  });

  it('without server_id lists every server the key may use, and only those', async () => {
    const r = await list('');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.tools.map((t: { name: string; mcp_info: { server_name: string } }) => `${t.mcp_info.server_name}/${t.name}`),
      ['github/search_repos', 'github/get_issue', 'jira/create_ticket'],
    );
  });

  it('refuses a server the key may not use exactly like one that does not exist (403 access_denied)', async () => {
    const forbidden = await list('?server_id=secret');
    const unknown = await list('?server_id=nosuch');
    for (const r of [forbidden, unknown]) {
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.error.type, 'access_denied');
      assert.equal(r.json.error.code, '403');
    }
    assert.equal(forbidden.json.error.message.replace('secret', 'X'), unknown.json.error.message.replace('nosuch', 'X'));
    assert.ok(!forbidden.text.includes('hidden_tool'));
    const c = await call({ server_id: 'secret', name: 'hidden_tool', arguments: {} });
    assert.equal(c.status, 403);
    assert.equal(c.json.error.type, 'access_denied');
    assert.equal(secret.calls.length, 0, 'the secret server never got the call');
  });

  it('calls a tool and answers with the CallToolResult', async () => {
    const r = await call({ server_id: 'github', name: 'search_repos', arguments: { q: 'toolgate' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(textOf(r.json), 'github:search_repos:{"q":"toolgate"}');
    assert.equal(r.json.isError, undefined);
  });

  it("accepts the server's own namespaced name, and finds the server from a namespaced name without server_id", async () => {
    const own = await call({ server_id: 'github', name: 'github-get_issue', arguments: { x: '1' } });
    assert.equal(textOf(own.json), 'github:get_issue:{"x":"1"}', own.text);
    const found = await call({ name: 'jira-create_ticket', arguments: {} });
    assert.equal(textOf(found.json), 'jira:create_ticket:{}', found.text);
  });

  it("goes through the MCP path's policy pipeline: allowed_params refuses before the upstream", async () => {
    const before = github.calls.length;
    const r = await call({ server_id: 'github', name: 'search_repos', arguments: { q: 'x', limit: 5 } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.type, 'access_denied');
    assert.match(r.json.error.message, /Parameters \['limit'\] are not allowed for tool search_repos/);
    assert.equal(github.calls.length, before);
  });

  it('403 access_denied for a tool the key may not call; the upstream never sees it', async () => {
    const before = jira.calls.length;
    const r = await call({ server_id: 'jira', name: 'search', arguments: {} });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.type, 'access_denied');
    assert.match(r.json.error.message, /Tool "search" is not available to this key on server "jira"/);
    assert.equal(jira.calls.length, before);
    // A tool no server has reads the same (no hint what exists).
    const none = await call({ server_id: 'jira', name: 'no_such_tool', arguments: {} });
    assert.equal(none.status, 403);
    assert.equal(none.json.error.message.replace('no_such_tool', 'X'), r.json.error.message.replace('search', 'X'));
  });

  it('403 tool_server_mismatch when the tool belongs to another server the key may use', async () => {
    for (const name of ['search_repos', 'github-search_repos']) {
      const r = await call({ server_id: 'jira', name, arguments: {} });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.error.type, 'tool_server_mismatch');
      assert.match(r.json.error.message, /belong to server "jira"; it is a tool of server "github"/);
    }
    // A tool of a server this key may not see is not "another server's": it is simply not available.
    const hidden = await call({ server_id: 'github', name: 'hidden_tool', arguments: {} });
    assert.equal(hidden.json.error.type, 'access_denied');
    assert.ok(!hidden.text.includes('secret'), hidden.text);
    // Granted on jira but not here: the master key sees jira's search, this key does not.
    const notGranted = await call({ server_id: 'github', name: 'search', arguments: {} });
    assert.equal(notGranted.json.error.type, 'access_denied', 'jira/search is not a tool this key may use anywhere');
    const master = await call({ server_id: 'github', name: 'search', arguments: {} }, TEST_KEY);
    assert.equal(master.json.error.type, 'tool_server_mismatch');
  });

  it('answers bad requests with a clear error and stays up', async () => {
    const noKey = await call({ server_id: 'github', name: 'search_repos' }, null);
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.error.type, 'auth_error');
    const badKey = await list('?server_id=github', 'sk-not-a-key');
    assert.equal(badKey.status, 401);
    const noName = await call({ server_id: 'github' });
    assert.equal(noName.status, 400);
    assert.equal(noName.json.error.param, 'name');
    const badArgs = await call({ server_id: 'github', name: 'search_repos', arguments: [1] });
    assert.equal(badArgs.json.error.param, 'arguments');
    const res = await fetch(`${gw.url}/mcp-rest/tools/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    assert.equal((await api(gw, 'GET', '/mcp-rest/tools/call')).status, 405);
    assert.equal((await api(gw, 'POST', '/mcp-rest/tools/list', {})).status, 405);
    assert.equal((await list('?server_id=github')).status, 200);
  });

  it('never answers with the credentials, even when the upstream echoes them', async () => {
    const canary = 'canary-rest-credential-51c2e8';
    const echo = http.createServer((req, res) => res.writeHead(500).end(`denied for ${req.headers.authorization}`));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/mcp`;
    gw.registry.add({ ...gw.registry.get('jira')!.config, name: 'echoer', url, auth: { type: 'bearer_token', value: canary } });
    try {
      const listed = await list('?server_id=echoer', TEST_KEY);
      assert.equal(listed.status, 502, listed.text);
      assert.match(listed.json.message, /HTTP 500/);
      const called = await call({ server_id: 'echoer', name: 'anything', arguments: {} }, TEST_KEY);
      assert.equal(called.status, 502, called.text);
      for (const r of [listed, called]) assert.ok(!r.text.includes(canary), r.text);
      assert.ok(!gw.logs.join('').includes(canary));
    } finally {
      await gw.registry.remove('echoer');
      echo.close();
    }
  });

  it("tells a key which server could not be listed, never the upstream's words; the master key reads them", async () => {
    const leaky = http.createServer((_req, res) => res.writeHead(500).end('internal path /srv/leaky-upstream-detail'));
    leaky.listen(0, '127.0.0.1');
    await once(leaky, 'listening');
    const url = `http://127.0.0.1:${(leaky.address() as AddressInfo).port}/mcp`;
    gw.registry.add({ ...gw.registry.get('jira')!.config, name: 'leaky', url });
    const k = await api(gw, 'POST', '/key/generate', { object_permission: { mcp_servers: ['leaky', 'github'] } });
    try {
      const one = await list('?server_id=leaky', k.json.key);
      assert.equal(one.status, 502, one.text);
      assert.equal(one.json.message, 'Could not list tools of leaky: could not be listed');
      const all = await list('', k.json.key);
      assert.equal(all.json.error, 'upstream_error');
      assert.deepEqual(names(all.json.tools), ['search_repos', 'get_issue']);
      for (const r of [one, all]) assert.ok(!/HTTP 500|leaky-upstream-detail/.test(r.text), r.text);
      assert.match((await list('?server_id=leaky', TEST_KEY)).json.message, /HTTP 500/);
    } finally {
      await gw.registry.remove('leaky');
      leaky.close();
    }
  });

  it('reports an upstream that is down in the same shape (502), naming the server', async () => {
    const down = await startCatalogServer({ name: 'down', tools: [tool('t')] });
    const url = down.url;
    await down.stop();
    const k = await api(gw, 'POST', '/key/generate', { object_permission: { mcp_servers: ['github'] } });
    gw.registry.add({ ...gw.registry.get('github')!.config, name: 'gone', url });
    try {
      const r = await list('?server_id=gone', TEST_KEY);
      assert.equal(r.status, 502, r.text);
      assert.deepEqual(r.json.tools, []);
      assert.equal(r.json.error, 'upstream_error');
      assert.match(r.json.message, /gone/);
      assert.equal((await list('?server_id=gone', k.json.key)).status, 403, 'a key without it is refused before any upstream');
    } finally {
      await gw.registry.remove('gone');
    }
  });
});
