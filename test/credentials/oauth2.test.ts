import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { oauth2ClientCredentials, tokenUseMs, type OAuth2ClientCredentialsAuth } from '../../src/upstream/credentials/oauth2.js';
import type { OutboundRequest } from '../../src/upstream/credentials/types.js';
import { startTokenEndpoint, type TokenEndpoint, type TokenEndpointOptions } from '../fixtures/token-endpoint.js';
import { rejection } from './rejection.js';

// Characters that HTTP Basic needs form-encoded (RFC 6749 2.3.1) and a marker to hunt for in errors.
const SECRET = 'CANARY-s3cr3t:with space+plus/&amp';
const CLIENT_ID = 'toolgate client';

const endpoints: TokenEndpoint[] = [];
after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

async function endpoint(overrides: Partial<TokenEndpointOptions> = {}): Promise<TokenEndpoint> {
  const e = await startTokenEndpoint({
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    authMethod: 'client_secret_post',
    expiresIn: 3600,
    ...overrides,
  });
  endpoints.push(e);
  return e;
}

function authFor(e: TokenEndpoint, overrides: Partial<OAuth2ClientCredentialsAuth> = {}): OAuth2ClientCredentialsAuth {
  return {
    type: 'oauth2',
    flow: 'client_credentials',
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    tokenUrl: e.tokenUrl,
    scopes: [],
    tokenEndpointAuthMethod: e.options.authMethod,
    ...overrides,
  };
}

function outbound(url: string): OutboundRequest {
  return { method: 'POST', url: new URL(url), headers: { 'content-type': 'application/json' }, body: '{}' };
}

async function bearer(creds: { apply(r: OutboundRequest): unknown }, url = 'http://127.0.0.1:1/mcp'): Promise<string> {
  const req = outbound(url);
  await creds.apply(req);
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  assert.ok(match, 'apply() sets a bearer authorization header');
  return match[1];
}

/** Sends the credentials to the fixture's protected /mcp resource, as the HTTP transport would. */
async function callResource(e: TokenEndpoint, creds: { apply(r: OutboundRequest): unknown }): Promise<number> {
  const req = outbound(e.resourceUrl);
  await creds.apply(req);
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
  await res.arrayBuffer();
  return res.status;
}

describe('oauth2 client credentials', () => {
  it('fetches a token with scopes and audience (client_secret_post) and reuses it', async () => {
    const e = await endpoint({ scope: 'tools:read tools:call', audience: 'https://api.example' });
    const creds = oauth2ClientCredentials(authFor(e, { scopes: ['tools:read', 'tools:call'], audience: 'https://api.example' }), {
      serverName: 'github',
      serverUrl: e.resourceUrl,
    });
    assert.equal(await callResource(e, creds), 200);
    const token = await bearer(creds);
    assert.ok(e.liveTokens.has(token));
    assert.equal(e.tokenRequests, 1);
    assert.deepEqual(e.rejections, []);
    assert.equal(e.lastForm?.get('grant_type'), 'client_credentials');
  });

  it('sends HTTP Basic with form-encoded id and secret for client_secret_basic', async () => {
    const e = await endpoint({ authMethod: 'client_secret_basic' });
    const creds = oauth2ClientCredentials(authFor(e), { serverName: 'basic', serverUrl: e.resourceUrl });
    assert.equal(await callResource(e, creds), 200);
    assert.deepEqual(e.rejections, []);
    assert.equal(e.lastForm?.has('client_secret'), false);
  });

  it('fails with the OAuth error, naming the server and not the secret, when the auth method is wrong', async () => {
    const e = await endpoint({ authMethod: 'client_secret_basic' });
    const creds = oauth2ClientCredentials(authFor(e, { tokenEndpointAuthMethod: 'client_secret_post' }), {
      serverName: 'wrong-method',
      serverUrl: e.resourceUrl,
    });
    const err = await rejection(bearer(creds));
    assert.equal(err.failure, 'unauthorized');
    assert.match(err.message, /'wrong-method'/);
    assert.match(err.message, /401.*invalid_client/);
    assert.ok(!err.message.includes(SECRET));
  });

  it('renews the token shortly before expires_in', async () => {
    const e = await endpoint({ expiresIn: 30 });
    let now = 1_000_000;
    const creds = oauth2ClientCredentials(authFor(e), { serverName: 'short', serverUrl: e.resourceUrl, now: () => now });
    const first = await bearer(creds);
    now += tokenUseMs(30) - 1;
    assert.equal(await bearer(creds), first);
    assert.equal(e.tokenRequests, 1);
    now += 2;
    const second = await bearer(creds);
    assert.notEqual(second, first);
    assert.equal(e.tokenRequests, 2);
  });

  it('keeps a 60 s margin for long lifetimes and 10% for short ones', () => {
    assert.equal(tokenUseMs(3600), 3_540_000);
    assert.equal(tokenUseMs(100), 90_000);
    assert.equal(tokenUseMs(0), 0);
  });

  it('shares one token request among 50 concurrent callers', async () => {
    const e = await endpoint();
    const creds = oauth2ClientCredentials(authFor(e), { serverName: 'busy', serverUrl: e.resourceUrl });
    const release = e.hold();
    const pending = Promise.all(Array.from({ length: 50 }, () => bearer(creds)));
    release();
    const tokens = await pending;
    assert.equal(new Set(tokens).size, 1);
    assert.equal(e.tokenRequests, 1);
  });

  it('fetches exactly one new token when concurrent requests meet a 401', async () => {
    const e = await endpoint();
    const creds = oauth2ClientCredentials(authFor(e), { serverName: 'revoked', serverUrl: e.resourceUrl });
    assert.equal(await callResource(e, creds), 200);
    e.liveTokens.clear();
    assert.equal(await callResource(e, creds), 401);
    const release = e.hold();
    const refreshed = Promise.all(Array.from({ length: 10 }, () => creds.refresh!()));
    release();
    assert.deepEqual(new Set(await refreshed), new Set([true]));
    assert.equal(e.tokenRequests, 2);
    assert.equal(await callResource(e, creds), 200);
  });

  for (const [resourceMetadata, serverMetadata, issuerPath] of [
    ['path', 'oauth', '/tenant-a'],
    ['root', 'openid', ''],
    ['challenge', 'oauth', ''],
    ['path', 'openid', '/realms/x'],
  ] as const) {
    it(`discovers the token endpoint (resource metadata: ${resourceMetadata}, ${serverMetadata}, issuer path '${issuerPath}')`, async () => {
      const e = await endpoint({ resourceMetadata, serverMetadata, issuerPath });
      const creds = oauth2ClientCredentials(authFor(e, { tokenUrl: undefined }), { serverName: 'discover', serverUrl: e.resourceUrl });
      assert.equal(await callResource(e, creds), 200);
      assert.equal(e.tokenRequests, 1);
      assert.ok(e.metadataRequests.some((p) => p.includes('authorization-server') || p.includes('openid-configuration')));
      // Discovery happens once: a renewal goes straight to the token endpoint.
      const seen = e.metadataRequests.length;
      await creds.refresh!();
      assert.equal(e.metadataRequests.length, seen);
      assert.equal(e.tokenRequests, 2);
    });
  }

  it('refuses authorization-server metadata that names another issuer', async () => {
    const e = await endpoint({ advertisedIssuer: 'https://evil.example' });
    const creds = oauth2ClientCredentials(authFor(e, { tokenUrl: undefined }), { serverName: 'mixup', serverUrl: e.resourceUrl });
    const err = await rejection(bearer(creds));
    assert.match(err.message, /'mixup'.*names issuer https:\/\/evil\.example/);
    assert.equal(e.tokenRequests, 0);
  });

  it('says where it looked when there is no metadata to discover', async () => {
    const e = await endpoint();
    const creds = oauth2ClientCredentials(authFor(e, { tokenUrl: undefined }), {
      serverName: 'nometa',
      serverUrl: `${e.origin}/elsewhere`,
    });
    const err = await rejection(bearer(creds));
    assert.equal(err.failure, 'unauthorized');
    assert.match(err.message, /'nometa'.*no token_url configured.*oauth-protected-resource\/elsewhere \(404\)/);
  });

  it('never puts a secret echoed by the token endpoint into the error', async () => {
    const e = await endpoint({ failure: { status: 400, error: 'invalid_client', description: `client_secret ${SECRET} is wrong` } });
    const creds = oauth2ClientCredentials(authFor(e), { serverName: 'echo', serverUrl: e.resourceUrl });
    const err = await rejection(bearer(creds));
    assert.equal(err.failure, 'unauthorized');
    assert.match(err.message, /'echo'.*400 \(invalid_client: client_secret \[redacted\] is wrong\)/);
    assert.ok(!err.message.includes(SECRET));
    assert.ok(!err.stack?.includes(SECRET));
  });

  it('reports a failing or unreachable token endpoint as unreachable', async () => {
    const e = await endpoint({ failure: { status: 503, error: 'temporarily_unavailable' } });
    const broken = oauth2ClientCredentials(authFor(e), { serverName: 'flaky', serverUrl: e.resourceUrl });
    const err = await rejection(bearer(broken));
    assert.equal(err.failure, 'unreachable');
    assert.match(err.message, /'flaky'.*503 \(temporarily_unavailable\)/);

    const gone = await endpoint();
    await gone.close();
    const creds = oauth2ClientCredentials(authFor(gone), { serverName: 'gone', serverUrl: gone.resourceUrl });
    const down = await rejection(bearer(creds));
    assert.equal(down.failure, 'unreachable');
    assert.match(down.message, /'gone'.*cannot reach token endpoint.*ECONNREFUSED/);
  });
});
