import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthConfig, ServerConfig } from '../../src/config/types.js';
import { credentialsFor } from '../../src/upstream/credentials/index.js';
import { NO_CREDENTIALS, type OutboundRequest } from '../../src/upstream/credentials/types.js';
import { UpstreamHttp } from '../../src/upstream/http.js';
import { startSigV4Verifier, type SigV4Verifier } from '../fixtures/sigv4-verifier.js';
import { startTokenEndpoint, type TokenEndpoint } from '../fixtures/token-endpoint.js';

const SECRET = 'CANARY-index-secret';
let tokens: TokenEndpoint;
let verifier: SigV4Verifier;
const clients: UpstreamHttp[] = [];

before(async () => {
  tokens = await startTokenEndpoint({ clientId: 'c', clientSecret: SECRET, authMethod: 'client_secret_post', expiresIn: 600 });
  verifier = await startSigV4Verifier({
    keys: new Map([['AKIAINDEX', { secretAccessKey: SECRET }]]),
    region: 'us-east-1',
    service: 'bedrock-agentcore',
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([tokens.close(), verifier.close()]);
});

function server(auth: AuthConfig, url: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: 'upstream-a',
    transport: 'http',
    url,
    args: [],
    env: {},
    auth,
    timeoutMs: 5_000,
    accessGroups: [],
    extraHeaders: [],
    staticHeaders: {},
    toolNameToDisplayName: {},
    toolNameToDescription: {},
    ...overrides,
  };
}

/** One POST through the same HTTP plumbing the upstream transports use (credentials, 401 retry). */
async function post(cfg: ServerConfig, extraHeaders?: Record<string, string>): Promise<number> {
  const http = new UpstreamHttp({ url: cfg.url!, credentials: credentialsFor(cfg, { env: {} }), serverName: cfg.name, timeoutMs: 5_000 });
  clients.push(http);
  const res = await http.request({
    method: 'POST',
    url: new URL(cfg.url!),
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    extraHeaders,
  });
  await res.body.dump();
  return res.statusCode;
}

describe('credentialsFor', () => {
  it('uses OAuth2 client credentials and recovers from a 401 with one new token', async () => {
    const cfg = server(
      {
        type: 'oauth2',
        flow: 'client_credentials',
        clientId: 'c',
        clientSecret: SECRET,
        tokenUrl: tokens.tokenUrl,
        scopes: [],
        tokenEndpointAuthMethod: 'client_secret_post',
      },
      tokens.resourceUrl,
    );
    const http = new UpstreamHttp({ url: cfg.url!, credentials: credentialsFor(cfg), serverName: cfg.name, timeoutMs: 5_000 });
    clients.push(http);
    const call = async () => {
      const res = await http.request({
        method: 'POST',
        url: new URL(cfg.url!),
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      await res.body.dump();
      return res.statusCode;
    };
    assert.equal(await call(), 200);
    const before = tokens.tokenRequests;
    tokens.liveTokens.clear();
    assert.equal(await call(), 200);
    assert.equal(tokens.tokenRequests, before + 1);
  });

  it('signs with SigV4 after adding static_headers, so they are covered by the signature', async () => {
    const cfg = server(
      { type: 'aws_sigv4', region: 'us-east-1', service: 'bedrock-agentcore', accessKeyId: 'AKIAINDEX', secretAccessKey: SECRET },
      `${verifier.url}/runtimes/abc/invocations?qualifier=DEFAULT`,
      { staticHeaders: { 'X-Team': 'blue' } },
    );
    assert.equal(await post(cfg, { 'x-tenant': 't1' }), 200, verifier.rejected.at(-1));
    const got = verifier.accepted.at(-1)!;
    assert.equal(got.headers['x-team'], 'blue');
    assert.equal(got.headers['x-tenant'], 't1');
    assert.match(String(got.headers.authorization), /SignedHeaders=[^,]*x-team/);
  });

  it('applies static auth types and static headers', async () => {
    const creds = credentialsFor(
      server({ type: 'bearer_token', value: 'CANARY-bearer' }, 'http://127.0.0.1:1/mcp', { staticHeaders: { 'x-env': 'prod' } }),
    );
    const req: OutboundRequest = { method: 'POST', url: new URL('http://127.0.0.1:1/mcp'), headers: {} };
    await creds.apply(req);
    assert.deepEqual(req.headers, { 'x-env': 'prod', authorization: 'Bearer CANARY-bearer' });
  });

  it('gives stdio servers no HTTP credentials', () => {
    assert.equal(
      credentialsFor(server({ type: 'bearer_token', value: 'x' }, '', { transport: 'stdio', url: undefined, command: 'node' })),
      NO_CREDENTIALS,
    );
  });
});
