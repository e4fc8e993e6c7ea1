import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Resolver } from '../../src/upstream/egress.js';
import { api, uid } from '../admin/api.js';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { everythingStdio } from '../fixtures/everything.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const CANARY = 'canary-conntest-secret-7f3a91';

/**
 * POST /mcp-rest/test/connection and /mcp-rest/test/tools/list: admin only, the stdio allow-list
 * and the SSRF guard (at the URL and at connect time), LiteLLM's {status, message, tools} answers.
 * Names under .test resolve through an injected resolver.
 */
describe('connection tests', () => {
  let upstream: CatalogServer;
  let echo: http.Server;
  let echoPort: number;
  let gw: TestGateway;
  let userKey: string;
  let port: string;
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-conntest-'));
  let flips = 0;
  const resolve: Resolver = async (host) => {
    if (host === 'ok.test') return [{ address: '127.0.0.1', family: 4 }];
    // Public when the URL is checked, a metadata address when the connection is made.
    if (host === 'flip.test') return [{ address: flips++ === 0 ? '93.184.216.34' : '169.254.169.254', family: 4 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };

  before(async () => {
    upstream = await startCatalogServer({ name: 'probe-target', tools: [tool('one'), tool('two')] });
    port = new URL(upstream.url).port;
    // Answers every request with a 500 that echoes the credentials it was sent.
    echo = http.createServer((req, res) => res.writeHead(500).end(`bad request with ${req.headers.authorization}`));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoPort = (echo.address() as AddressInfo).port;
    gw = await startTestGateway(
      `mcp_servers:\n  cfg:\n    url: http://127.0.0.1:9/mcp\ntoolgate_settings:\n  upstream_allowlist: [ok.test]\n`,
      {},
      0,
      { resolve },
    );
    const k = await api(gw, 'POST', '/key/generate', { key_alias: `conn-${uid()}` });
    userKey = k.json.key;
  });
  after(async () => {
    await gw?.close();
    await upstream?.stop();
    echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const test = (route: 'connection' | 'tools/list', body: unknown, key?: string | null) =>
    api(gw, 'POST', `/mcp-rest/test/${route}`, body, key);

  it('connects and lists an allowed server, leaving nothing behind', async () => {
    const before = upstream.count('initialize');
    const conn = await test('connection', { server_name: 'trial', url: `http://ok.test:${port}/mcp`, transport: 'http' });
    assert.equal(conn.status, 200, conn.text);
    assert.equal(conn.json.status, 'success');
    assert.match(conn.json.message, /Connected and initialized/);
    const listed = await test('tools/list', { url: `http://ok.test:${port}/mcp`, transport: 'streamable_http' });
    assert.equal(listed.json.status, 'success', listed.text);
    assert.deepEqual(
      listed.json.tools.map((t: { name: string }) => t.name),
      ['one', 'two'],
    );
    assert.equal(upstream.count('initialize'), before + 2, 'one session per test');
    assert.ok(!gw.registry.has('trial') && !gw.registry.has('connection-test'), 'a test registers nothing');
  });

  it('runs an allowed stdio command for an admin', async () => {
    const { args } = everythingStdio();
    const r = await test('tools/list', { transport: 'stdio', command: 'node', args });
    assert.equal(r.json.status, 'success', r.text);
    assert.ok(r.json.tools.some((t: { name: string }) => t.name === 'echo'));
  });

  it('is admin only: a virtual key gets 403 and its stdio command never runs', async () => {
    const marker = join(dir, `ran-${uid()}`);
    const body = { transport: 'stdio', command: 'node', args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`] };
    for (const route of ['connection', 'tools/list'] as const) {
      const r = await test(route, body, userKey);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.error.type, 'forbidden');
      assert.equal((await test(route, body, null)).status, 401);
    }
    assert.equal(existsSync(marker), false, 'the non-admin command was not started');
    // The same body from an admin does run (node is allowed): the 403 is what kept it from running.
    const admin = await test('connection', body);
    assert.equal(admin.json.status, 'error', 'not an MCP server');
    assert.equal(existsSync(marker), true);
  });

  it('refuses stdio commands outside the allow-list, never through a shell', async () => {
    const marker = join(dir, `shell-${uid()}`);
    const refused: [unknown, RegExp][] = [
      [{ transport: 'stdio', command: 'bash', args: ['-c', `touch ${marker}`] }, /"bash" is not allowed; allowed: npx, uvx/],
      [{ transport: 'stdio', command: '/bin/sh', args: ['-c', `touch ${marker}`] }, /"\/bin\/sh" is not allowed/],
      [{ transport: 'stdio', command: `touch ${marker}` }, /shell metacharacters or spaces/],
      [{ transport: 'stdio', command: 'node;touch', args: [marker] }, /shell metacharacters/],
    ];
    for (const [body, why] of refused) {
      const r = await test('connection', body);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.param, 'command');
      assert.match(r.json.error.message, why);
    }
    assert.equal(existsSync(marker), false);
  });

  it('refuses stdio env names that pick the program or what it loads; nothing starts', async () => {
    const marker = join(dir, `env-${uid()}`);
    const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`;
    for (const env of [
      { PATH: dir },
      { NODE_OPTIONS: '--require /tmp/x.js' },
      { LD_PRELOAD: '/tmp/x.so' },
      { PYTHONSTARTUP: '/tmp/x.py' },
    ]) {
      const r = await test('connection', { transport: 'stdio', command: 'node', args: ['-e', script], env });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.param, `env.${Object.keys(env)[0]}`);
      assert.match(r.json.error.message, /may not be set for a stdio server registered through the API/);
    }
    assert.equal(existsSync(marker), false);
  });

  it('applies the SSRF guard to the URL and at connect time', async () => {
    const refused: [string, RegExp][] = [
      [
        `http://127.0.0.1:${port}/mcp`,
        /127\.0\.0\.1 is a loopback address; add the host or its CIDR to toolgate_settings\.upstream_allowlist/,
      ],
      ['http://169.254.169.254/latest/meta-data/', /always refused/],
      ['http://2852039166/', /169\.254\.169\.254 is a link-local or cloud-metadata address/],
      ['http://metadata.google.internal/', /always refused/],
      ['http://[::ffff:169.254.169.254]/', /always refused/],
      ['http://nowhere.test/mcp', /could not be resolved/],
    ];
    for (const [url, why] of refused) {
      const r = await test('tools/list', { url, transport: 'http' });
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.equal(r.json.error.param, 'url');
      assert.match(r.json.error.message, why);
    }
    const rebound = await test('connection', { url: `http://flip.test:${port}/mcp` });
    assert.equal(rebound.json.status, 'error', rebound.text);
    assert.match(rebound.json.message, /"flip\.test" \(169\.254\.169\.254\) is a link-local or cloud-metadata address/);
  });

  it("fetches an API server's OAuth token endpoint through the guard too", async () => {
    const r = await test('connection', {
      url: `http://ok.test:${port}/mcp`,
      auth_type: 'oauth2',
      oauth2_flow: 'client_credentials',
      credentials: { client_id: 'id', client_secret: CANARY, token_url: 'http://metadata.google.internal/token' },
    });
    assert.equal(r.json.status, 'error', r.text);
    assert.match(r.json.message, /"metadata\.google\.internal".*always refused/);
    assert.ok(!r.text.includes(CANARY));
  });

  it('validates the body with the config messages', async () => {
    const noUrl = await test('connection', { transport: 'http' });
    assert.equal(noUrl.status, 400);
    assert.match(noUrl.json.error.message, /^url: is required when transport is http/);
    const badTransport = await test('connection', { url: `http://ok.test:${port}/mcp`, transport: 'carrier-pigeon' });
    assert.equal(badTransport.status, 400);
    assert.match(badTransport.json.error.message, /transport/);
    assert.equal((await api(gw, 'GET', '/mcp-rest/test/connection')).status, 405);
  });

  it('never returns or logs the credentials, even when the server echoes them', async () => {
    const allowEcho = `http://ok.test:${echoPort}/mcp`;
    const r = await test('connection', { url: allowEcho, auth_type: 'bearer_token', credentials: { auth_value: CANARY } });
    assert.equal(r.json.status, 'error', r.text);
    assert.match(r.json.message, /HTTP 500/);
    assert.ok(!r.text.includes(CANARY), r.text);
    const h = await test('tools/list', { url: allowEcho, static_headers: { 'x-api-key': CANARY } });
    assert.ok(!h.text.includes(CANARY), h.text);
    assert.ok(!gw.logs.join('').includes(CANARY), 'not in any log line');
  });

  it('answers an unreachable server with status error', async () => {
    const r = await test('connection', { url: 'http://ok.test:9/mcp' });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'error');
    assert.match(r.json.message, /unreachable/);
  });
});
