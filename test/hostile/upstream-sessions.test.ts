import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initializeBody, until } from '../upstream/poll.js';
import { everythingStdioChildren } from '../fixtures/children.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';

// Issue 11 item 4: one upstream session (for stdio a child) per distinct client capability profile, never released.
describe('upstream sessions are bounded and released', { timeout: 90_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(`toolgate_settings:\n  session_ttl_seconds: 1\nmcp_servers:\n  everything:${EVERYTHING_STDIO}\n`);
    await gw.upstreams.get('everything')!.describe();
  });
  after(async () => {
    await gw?.close();
  });

  it('does not open a session per experimental value, and releases profile sessions after the client sessions expire', async () => {
    const upstream = gw.upstreams.get('everything')!;
    const url = gw.mcpUrl('/mcp/everything');
    assert.equal(everythingStdioChildren().length, 1, 'the warm default session');
    for (let i = 0; i < 6; i++) {
      const r = await rawPost(url, initializeBody({ experimental: { [`x${i}`]: { n: i } } }));
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(everythingStdioChildren().length, 1, 'experimental values share the default session');
    // Capabilities that do change the upstream's behaviour get sessions of their own...
    for (const tasks of [{ list: {} }, { cancel: {} }, { list: {}, cancel: {} }]) {
      const r = await rawPost(url, initializeBody({ tasks }));
      assert.equal(r.status, 200, r.text);
    }
    assert.ok(everythingStdioChildren().length > 1, 'task-capable profiles have sessions of their own');
    // ...and three stateless 2026 requests with distinct clientCapabilities add none.
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: i,
        method: 'tools/list',
        params: { _meta: { [PV]: '2026-07-28', [CAPS]: { experimental: { [`y${i}`]: {} } } } },
      });
      const r = await rawPost(url, body, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
      assert.equal(r.status, 200, r.text);
    }
    await until('stateless leases to be released', () => everythingStdioChildren().length <= 5);
    // Once every client session has expired (TTL 1 s) and the idle grace has passed, only the default is left.
    await until('profile sessions to be released', () => everythingStdioChildren().length === 1 && upstream.health().sessions === 1);
    assert.equal(upstream.health().state, 'ready');
    // The default session still serves.
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'still here' } })), 'Echo: still here');
    await client.close();
  });
});

describe('max_sessions_per_upstream', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(`toolgate_settings:\n  max_sessions_per_upstream: 2\nmcp_servers:\n  everything:${EVERYTHING_STDIO}\n`);
    await gw.upstreams.get('everything')!.describe();
  });
  after(async () => {
    await gw?.close();
  });

  it('refuses a session beyond the cap with an error naming the setting; the others keep working', async () => {
    const url = gw.mcpUrl('/mcp/everything');
    const first = await connectClient(url, { capabilities: { roots: {} } });
    await assert.rejects(connectClient(url, { capabilities: { roots: { listChanged: true } } }), /max_sessions_per_upstream/);
    assert.equal(everythingStdioChildren().length, 2);
    assert.equal(textOf(await first.callTool({ name: 'echo', arguments: { message: 'a' } })), 'Echo: a');
    const plain = await connectClient(url);
    assert.equal(textOf(await plain.callTool({ name: 'echo', arguments: { message: 'b' } })), 'Echo: b');
    assert.equal(gw.upstreams.get('everything')!.health().state, 'ready', 'a full upstream is not a down one');
    await first.close();
    await plain.close();
  });
});
