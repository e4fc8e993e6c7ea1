import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthConfig, ServerConfig } from '../../src/config/types.js';
import type { Credentials, OutboundRequest } from '../../src/upstream/credentials/types.js';
import { staticCredentials } from '../../src/upstream/credentials/static.js';
import { staticHeadersCredentials } from '../../src/upstream/credentials/headers.js';
import { parseConfig } from '../../src/config/load.js';

async function headersFor(creds: Credentials): Promise<Record<string, string>> {
  const req: OutboundRequest = {
    method: 'POST',
    url: new URL('http://127.0.0.1/mcp'),
    headers: { 'content-type': 'application/json' },
    body: '{}',
  };
  await creds.apply(req);
  return req.headers;
}

const cases: [AuthConfig, Record<string, string>][] = [
  [{ type: 'none' }, {}],
  [{ type: 'api_key', value: 'k1' }, { 'x-api-key': 'k1' }],
  [{ type: 'bearer_token', value: 't1' }, { authorization: 'Bearer t1' }],
  [{ type: 'basic', value: 'alice:pa:ss' }, { authorization: `Basic ${Buffer.from('alice:pa:ss').toString('base64')}` }],
  [{ type: 'authorization', value: 'Custom xyz' }, { authorization: 'Custom xyz' }],
  [{ type: 'token', value: 'gh1' }, { authorization: 'Token gh1' }],
];

for (const [auth, expected] of cases) {
  test(`static credentials for ${auth.type} set exactly ${JSON.stringify(expected)}`, async () => {
    assert.deepEqual(await headersFor(staticCredentials(auth)), { 'content-type': 'application/json', ...expected });
  });
}

test('oauth2 and aws_sigv4 are not static', () => {
  assert.throws(() => staticCredentials({ type: 'aws_sigv4', region: 'us-east-1', service: 's' }), /aws_sigv4/);
});

function server(yaml: string): ServerConfig {
  return parseConfig(`mcp_servers:\n  s:\n    url: http://127.0.0.1:1/mcp\n${yaml}`, 't.yaml', {}).servers[0];
}

test('static_headers are always sent, and the auth_type header wins a clash', async () => {
  const cfg = server(
    `    auth_type: bearer_token\n    auth_value: real\n    static_headers:\n      Authorization: Bearer stale\n      X-Tenant: acme\n`,
  );
  const creds = staticHeadersCredentials(cfg, staticCredentials(cfg.auth));
  assert.deepEqual(await headersFor(creds), { 'content-type': 'application/json', authorization: 'Bearer real', 'x-tenant': 'acme' });
});

test('static_headers alone, and refresh is delegated to the inner provider', async () => {
  const cfg = server(`    static_headers: {X-A: "1"}\n`);
  let refreshed = 0;
  const inner: Credentials = {
    apply() {},
    async refresh() {
      refreshed++;
      return true;
    },
  };
  const creds = staticHeadersCredentials(cfg, inner);
  assert.deepEqual(await headersFor(creds), { 'content-type': 'application/json', 'x-a': '1' });
  assert.equal(await creds.refresh?.(), true);
  assert.equal(refreshed, 1);
});

test('the headers arrive intact at a real HTTP server', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.headers);
    res.end();
  });
  after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mcp`;
  const cfg = server(`    auth_type: basic\n    auth_value: "alice:s3cret"\n    static_headers: {X-Version: 2}\n`);
  const headers = await headersFor(staticHeadersCredentials(cfg, staticCredentials(cfg.auth)));
  await fetch(url, { method: 'POST', headers, body: '{}' });
  assert.equal(seen.length, 1);
  const [scheme, encoded] = String(seen[0].authorization).split(' ');
  assert.equal(scheme, 'Basic');
  assert.equal(Buffer.from(encoded, 'base64').toString('utf8'), 'alice:s3cret');
  assert.equal(seen[0]['x-version'], '2');
});
