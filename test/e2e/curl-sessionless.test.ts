import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { CLIENT_KINDS, connectEraClient } from '../helpers/era-clients.js';
import { rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);

/**
 * LiteLLM's gateway doc calls MCP with curl: one request, no initialize, no session, and bodies
 * without `jsonrpc` or `id`. Spec-correct clients of both eras must see no difference.
 */
describe('curl the LiteLLM way: sessionless requests', { concurrency: true }, () => {
  let github: CatalogServer;
  let gw: TestGateway;
  let URL_: string;

  before(async () => {
    github = await startCatalogServer({ name: 'github', tools: [tool('search_repos'), tool('get_issue')] });
    gw = await startTestGateway(`mcp_servers:\n  github:\n    url: ${github.url}\n`);
    URL_ = gw.url;
  });
  after(async () => {
    await gw?.close();
    await github?.stop();
  });

  /** The curl commands verbatim, through the real curl binary (no Accept header of our own). */
  async function curl(url: string, body: string): Promise<any> {
    const { stdout } = await run('curl', [
      '-sS',
      '-X',
      'POST',
      url,
      '-H',
      `Authorization: Bearer ${TEST_KEY}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      body,
    ]);
    return JSON.parse(stdout);
  }

  it("answers the doc's tools/list curl on /mcp/github as JSON", async () => {
    const out = await curl(`${URL_}/mcp/github`, '{"method":"tools/list"}');
    assert.deepEqual(
      out.result.tools.map((t: { name: string }) => t.name),
      ['search_repos', 'get_issue'],
    );
  });

  it("answers the doc's tools/call curl on /mcp?server=github as JSON", async () => {
    const out = await curl(
      `${URL_}/mcp?server=github`,
      '{"method":"tools/call","params":{"name":"search_repos","arguments":{"q":"litellm"}}}',
    );
    assert.equal(textOf(out.result), 'github:search_repos:{"q":"litellm"}');
  });

  it('answers a spec-correct JSON-RPC request without a session, keeping its id; a stray notification gets 202', async () => {
    const r = await rawPost(`${URL_}/mcp/github`, JSON.stringify({ jsonrpc: '2.0', id: 'abc', method: 'tools/list' }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, 'abc');
    assert.equal(r.json.result.tools.length, 2);
    assert.equal(r.headers.get('mcp-session-id'), null, 'no session is created');
    const n = await rawPost(`${URL_}/mcp/github`, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    assert.equal(n.status, 202);
  });

  it('still refuses a sessionless body without a key, and one that is not a request at all', async () => {
    const noKey = await rawPost(`${URL_}/mcp/github`, '{"method":"tools/list"}', { authorization: '' });
    assert.equal(noKey.status, 401);
    const junk = await rawPost(`${URL_}/mcp/github`, '{"hello":"world"}');
    assert.equal(junk.status, 400);
    assert.equal(junk.json.error.code, -32600);
  });

  it('a GET stream still needs a session', async () => {
    const res = await fetch(`${URL_}/mcp/github`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${TEST_KEY}` } });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /Mcp-Session-Id/);
  });

  for (const kind of CLIENT_KINDS) {
    for (const path of ['/mcp/github', '/mcp?server=github']) {
      it(`spec-correct ${kind} client on ${path} lists and calls as before`, async () => {
        const client = await connectEraClient(kind, new URL(URL_ + path), false);
        try {
          assert.deepEqual(await client.listTools(), ['search_repos', 'get_issue']);
          assert.equal(textOf(await client.callTool('search_repos', { q: 'mcp' })), 'github:search_repos:{"q":"mcp"}');
          if (kind === 'v2-legacy' || kind === 'v1') assert.equal(client.version, '2025-11-25');
          else assert.equal(client.version, '2026-07-28');
        } finally {
          await client.close();
        }
      });
    }
  }
});
