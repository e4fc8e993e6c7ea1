import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startHeaderRecorder, type HeaderRecorder, type RecordedRequest } from '../fixtures/header-recorder.js';
import { startTokenEndpoint, type TokenEndpoint } from '../fixtures/token-endpoint.js';
import { connectClient, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';

const BEARER_CANARY = 'canary-bearer-7f3a9c1e55d04b2b';
const CLIENT_SECRET_CANARY = 'canary-client-secret-c0ffee4242';
const STATIC_CANARY = 'canary-static-header-0a1b2c3d';

function calls(rec: HeaderRecorder): RecordedRequest[] {
  return rec.requests.filter((r) => r.method === 'POST' && r.body.includes('"tools/call"'));
}

describe('upstream credentials through the gateway', () => {
  let a: HeaderRecorder;
  let b: HeaderRecorder;
  let o: HeaderRecorder;
  let tokens: TokenEndpoint;
  let gw: TestGateway;
  let client: Client;
  const responses: string[] = [];

  before(async () => {
    tokens = await startTokenEndpoint({
      clientId: 'toolgate-client',
      clientSecret: CLIENT_SECRET_CANARY,
      authMethod: 'client_secret_basic',
      scope: 'mcp.read',
      expiresIn: 3600,
    });
    a = await startHeaderRecorder();
    b = await startHeaderRecorder();
    o = await startHeaderRecorder({ authorize: (h) => tokens.liveTokens.has(String(h.authorization ?? '').replace(/^Bearer /, '')) });
    gw = await startTestGateway(
      `mcp_servers:
  alpha:
    url: ${a.url}
    auth_type: bearer_token
    auth_value: os.environ/ALPHA_TOKEN
    static_headers: { x-static: os.environ/STATIC_VALUE }
    extra_headers: [x-trace-id]
  beta:
    url: ${b.url}
  oauthed:
    url: ${o.url}
    auth_type: oauth2
    oauth2_flow: client_credentials
    client_id: toolgate-client
    client_secret: os.environ/OAUTH_SECRET
    token_url: ${tokens.tokenUrl}
    scopes: [mcp.read]
    token_endpoint_auth_method: client_secret_basic
`,
      { ALPHA_TOKEN: BEARER_CANARY, OAUTH_SECRET: CLIENT_SECRET_CANARY, STATIC_VALUE: STATIC_CANARY },
    );
    client = await connectClient(gw.mcpUrl('/mcp'), {
      headers: { 'x-mcp-beta-x-tenant': 'tenant-b', 'x-mcp-oauthed-x-team': 'team-o', 'x-trace-id': 'trace-1' },
    });
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await Promise.all([a?.stop(), b?.stop(), o?.stop(), tokens?.close()]);
  });

  it('injects each server its own configured credential and static headers', async () => {
    responses.push(JSON.stringify(await client.callTool({ name: 'alpha-echo', arguments: { text: 'x' } })));
    const call = calls(a).at(-1)!;
    assert.equal(call.headers.authorization, `Bearer ${BEARER_CANARY}`);
    assert.equal(call.headers['x-static'], STATIC_CANARY);
    assert.equal(call.headers['x-trace-id'], 'trace-1', 'extra_headers copied');
  });

  it('sends x-mcp-{server}-{header} to that server only, and never the gateway key', async () => {
    responses.push(JSON.stringify(await client.callTool({ name: 'beta-echo', arguments: { text: 'y' } })));
    const toB = calls(b).at(-1)!;
    assert.equal(toB.headers['x-tenant'], 'tenant-b');
    assert.equal(toB.headers['x-trace-id'], undefined, 'beta has no extra_headers');
    assert.equal(toB.headers['x-team'], undefined);
    const toA = calls(a).at(-1)!;
    assert.equal(toA.headers['x-tenant'], undefined);
    for (const rec of [a, b, o]) {
      for (const r of rec.requests) {
        assert.ok(!JSON.stringify(r.headers).includes(TEST_KEY), 'the Toolgate key never goes upstream');
        assert.ok(!Object.keys(r.headers).some((h) => h.startsWith('x-mcp-')), 'x-mcp-* headers are consumed, not relayed');
      }
    }
  });

  it('a per-request authorization header wins over the configured credential for that request', async () => {
    const other = await connectClient(gw.mcpUrl('/mcp/alpha'), { headers: { 'x-mcp-alpha-authorization': 'Bearer per-request-alpha' } });
    try {
      responses.push(JSON.stringify(await other.callTool({ name: 'echo', arguments: { text: 'z' } })));
    } finally {
      await other.close();
    }
    assert.equal(calls(a).at(-1)!.headers.authorization, 'Bearer per-request-alpha');
  });

  it('fetches an OAuth2 client-credentials token and sends it as a bearer', async () => {
    const r = await client.callTool({ name: 'oauthed-echo', arguments: { text: 'o' } });
    responses.push(JSON.stringify(r));
    assert.ok(textOf(r).length > 0);
    const call = calls(o).at(-1)!;
    const token = String(call.headers.authorization).replace(/^Bearer /, '');
    assert.ok(tokens.liveTokens.has(token));
    assert.equal(call.headers['x-team'], 'team-o');
    assert.ok(tokens.tokenRequests >= 1);
    assert.equal(tokens.lastForm?.get('grant_type'), 'client_credentials');
  });

  it('never leaks a canary secret into logs or responses', () => {
    const everything = gw.logs.join('\n') + responses.join('\n');
    for (const canary of [BEARER_CANARY, CLIENT_SECRET_CANARY, STATIC_CANARY]) assert.ok(!everything.includes(canary), `${canary} leaked`);
    assert.ok(gw.logs.length > 0, 'the gateway did log');
  });
});
