import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../fixtures/listen.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { initializeBody, until } from '../upstream/poll.js';

const BEARER = 'canary-bearer-5f1e2d3c4b5a69788796';
const BASIC_PASSWORD = 'canary-basic-pw-a1b2c3d4e5';
const STATIC = 'canary-static-header-99887766';
const ENV_SECRET = 'canary-env-secret-1357924680';

/**
 * An upstream that reflects whatever it was sent: the request's headers in a 403 (text), a 500
 * (HTML) or a JSON-RPC error message, depending on the path.
 */
async function startReflector(): Promise<{ server: Server; url: string }> {
  const { server, port } = await listenLocal(async (req, res) => {
    for await (const _ of req) void _;
    const echoed = JSON.stringify(req.headers);
    if (req.url === '/forbidden') return void res.writeHead(403, { 'content-type': 'text/plain' }).end(`forbidden: ${echoed}`);
    if (req.url === '/broken') return void res.writeHead(500, { 'content-type': 'text/html' }).end(`<h1>oops</h1><pre>${echoed}</pre>`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: `rejected ${echoed}`, data: { headers: req.headers } } }),
    );
  });
  return { server, url: `http://127.0.0.1:${port}` };
}

// Issue 11 item 8: an upstream echoing our Authorization header put the secret in errors, readiness and logs.
describe('secrets an upstream reflects', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let reflector: { server: Server; url: string };
  before(async () => {
    reflector = await startReflector();
    gw = await startTestGateway(
      'mcp_servers:\n' +
        `  bearer:\n    url: ${reflector.url}/forbidden\n    auth_type: bearer_token\n    auth_value: ${BEARER}\n` +
        `  basic:\n    url: ${reflector.url}/broken\n    auth_type: basic\n    auth_value: "user:${BASIC_PASSWORD}"\n` +
        `  static:\n    url: ${reflector.url}/rpc\n    static_headers: { x-upstream-key: ${STATIC} }\n` +
        `  child:\n    command: node\n    args: ["-e", "console.error(process.env.SECRET_TOKEN); process.exit(3)"]\n` +
        `    env: { SECRET_TOKEN: ${ENV_SECRET} }\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await new Promise<void>((r) => reflector?.server.close(() => r()));
  });

  it('appears in no response, readiness, health text or log line', async () => {
    const basicB64 = Buffer.from(`user:${BASIC_PASSWORD}`).toString('base64');
    const canaries = [BEARER, BASIC_PASSWORD, basicB64, STATIC, ENV_SECRET];
    const seen: string[] = [];
    for (const name of ['bearer', 'basic', 'static', 'child']) {
      const r = await rawPost(gw.mcpUrl(`/mcp/${name}`), initializeBody({}));
      seen.push(r.text);
      const call = await rawPost(gw.mcpUrl(`/mcp/${name}`), JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      seen.push(call.text);
    }
    // The errors did come back from the upstreams (the reflection happened), only redacted.
    assert.ok(
      seen.some((t) => t.includes('HTTP 403') && t.includes('[redacted]')),
      seen.join('\n'),
    );
    for (const name of ['bearer', 'basic']) {
      const u = gw.upstreams.get(name)!;
      await until(`${name} to be marked down`, () => u.health().state === 'down');
      assert.equal(u.health().errorClass, 'http-status');
    }
    const ready = await (
      await fetch(`${gw.url}/health/readiness`, { headers: { authorization: 'Bearer sk-test-toolgate-key-0123456789' } })
    ).text();
    seen.push(ready);
    for (const u of gw.upstreams.values()) seen.push(JSON.stringify(u.health()));
    seen.push(...gw.logs);
    const all = seen.join('\n');
    for (const c of canaries) assert.ok(!all.includes(c), `canary ${c.slice(0, 12)}... leaked`);
    assert.ok(
      gw.logs.some((l) => l.includes('[redacted]')),
      'the child printed its secret on stderr, redacted in the log',
    );
  });
});
