import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

const UPSTREAM_CANARY = 'ghp_tg-canary-debug-upstream-91c2';
const REQUEST_CANARY = 'tg-canary-debug-per-request-5d7e';

describe('x-litellm-mcp-debug: true', () => {
  let github: CatalogServer;
  let gw: TestGateway;
  before(async () => {
    github = await startCatalogServer({ name: 'github', tools: [tool('search_repos')] });
    gw = await startTestGateway(
      `mcp_servers:\n  github:\n    url: ${github.url}\n    auth_type: bearer_token\n    auth_value: ${UPSTREAM_CANARY}\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await github?.stop();
  });

  const list = '{"method":"tools/list"}';

  it('answers with masked headers: inbound auth, resolution, outbound URL, auth type, credential sent', async () => {
    const r = await rawPost(gw.mcpUrl('/mcp/github'), list, { 'x-litellm-mcp-debug': 'true', 'x-mcp-github-x-trace': REQUEST_CANARY });
    assert.equal(r.status, 200);
    const h = (n: string) => r.headers.get(n) ?? '';
    assert.match(h('x-mcp-debug-inbound-auth'), /^Authorization: Bearer sk-t\.\.\.\(\d+ chars\)$/);
    assert.match(h('x-mcp-debug-auth-resolution'), /^master key master:[0-9a-f]+$/);
    assert.equal(h('x-mcp-debug-outbound-url'), `github=${github.url}`);
    assert.equal(h('x-mcp-debug-server-auth-type'), 'github=bearer_token');
    assert.match(
      h('x-mcp-debug-upstream-credential'),
      /^github=Authorization: Bearer ghp_\.\.\.\(\d+ chars\), x-trace: tg-c\.\.\.\(\d+ chars\) \(from the request\)$/,
    );
    const all = [...r.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n') + r.text;
    for (const secret of [UPSTREAM_CANARY, REQUEST_CANARY, TEST_KEY]) assert.ok(!all.includes(secret), secret);
  });

  it('says which header carried the key, and adds nothing without the header', async () => {
    const via = await rawPost(gw.mcpUrl('/mcp/github'), list, {
      authorization: '',
      'x-litellm-api-key': TEST_KEY,
      'x-litellm-mcp-debug': 'true',
    });
    assert.match(via.headers.get('x-mcp-debug-inbound-auth')!, /^x-litellm-api-key sk-t\.\.\./);
    const plain = await rawPost(gw.mcpUrl('/mcp/github'), list);
    assert.equal(plain.headers.get('x-mcp-debug-inbound-auth'), null);
  });
});
