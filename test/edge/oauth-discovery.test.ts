import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING_STDIO, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

/** A client without the key tries OAuth discovery and registration; each step must say how to send the key. */
describe('OAuth probes of a client that forgot the key', { concurrency: true }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n`);
  });
  after(() => gw?.close());

  const says = (body: { error_description?: string; message?: string }) => {
    assert.match(body.error_description!, /Authorization: Bearer <key>/);
    assert.match(body.error_description!, /x-litellm-api-key/);
    assert.equal(body.message, body.error_description);
  };

  for (const path of [
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-protected-resource/mcp',
    '/.well-known/oauth-protected-resource/mcp/everything',
    '/.well-known/oauth-protected-resource/everything/mcp',
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/mcp/everything',
    '/.well-known/openid-configuration',
  ]) {
    it(`GET ${path}: JSON 404 naming the key headers`, async () => {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type')!, /application\/json/);
      says((await res.json()) as object);
    });
  }

  for (const path of ['/register', '/token', '/everything/register']) {
    it(`POST ${path}: an OAuth error whose description is the fix`, async () => {
      const res = await fetch(gw.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], client_name: 'mcp-remote' }),
      });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: string; error_description?: string; message?: string };
      assert.equal(body.error, path === '/token' ? 'unsupported_grant_type' : 'invalid_client_metadata');
      says(body);
    });
  }

  it('MCP routes are unchanged: no key is still 401, the key still works', async () => {
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    assert.equal((await fetch(gw.url + '/mcp/everything', { method: 'POST', headers, body: init })).status, 401);
    const ok = await fetch(gw.url + '/mcp/everything', {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${TEST_KEY}` },
      body: init,
    });
    assert.equal(ok.status, 200);
  });
});
