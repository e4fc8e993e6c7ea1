import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Credentials } from '../../src/upstream/credentials/types.js';
import { NO_CREDENTIALS } from '../../src/upstream/credentials/types.js';
import { SseTransport } from '../../src/upstream/sse.js';
import { UpstreamError } from '../../src/upstream/transport.js';
import { freePort, startEverything, type RunningEverything } from '../fixtures/everything.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { TinyRpc, exerciseEverything, firstText } from './tiny-rpc.js';

const SECRET = 'sse-secret-42';

function sse(url: string, credentials: Credentials = NO_CREDENTIALS, timeoutMs = 10_000) {
  return new SseTransport({ url, credentials, serverName: 'legacy', timeoutMs });
}

describe('SseTransport against server-everything (sse mode)', () => {
  let everything: RunningEverything;
  before(async () => {
    everything = await startEverything('sse');
  });
  after(() => everything.stop());

  test('initialize, tools/list, tools/call echo', async () => {
    const transport = sse(everything.url);
    await exerciseEverything(transport);
    await transport.close();
    await transport.close();
  });
});

describe('SseTransport on the wire (header recorder)', () => {
  let recorder: HeaderRecorder;
  before(async () => {
    recorder = await startHeaderRecorder();
  });
  after(() => recorder.stop());

  test('credentials on the GET and on every POST, with the exact body; per-request headers win', async () => {
    const bodies: Array<string | undefined> = [];
    const creds: Credentials = {
      apply(req) {
        bodies.push(req.body);
        req.headers['x-api-key'] = SECRET;
      },
    };
    const transport = sse(recorder.sseUrl, creds);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    const echoed = await rpc.request(
      'tools/call',
      { name: 'echo', arguments: { message: 'hi' } },
      { headers: { 'X-Api-Key': 'override' } },
    );
    assert.deepEqual(JSON.parse(firstText(echoed)), { message: 'hi' });
    await transport.close();

    const [get, ...posts] = recorder.requests;
    assert.equal(get.method, 'GET');
    assert.equal(get.path, '/sse');
    assert.equal(get.headers.accept, 'text/event-stream');
    assert.equal(get.headers['x-api-key'], SECRET);
    assert.equal(posts.length, 3);
    for (const p of posts) assert.match(p.path, /^\/message\?sessionId=/);
    assert.deepEqual(
      posts.map((p) => p.headers['x-api-key']),
      [SECRET, SECRET, 'override'],
    );
    assert.deepEqual(bodies, [undefined, ...posts.map((p) => p.body)]);
    assert.equal(posts[1].headers['mcp-protocol-version'], '2025-11-25');
  });
});

describe('SseTransport failures', () => {
  let endpoint = '';
  let streams: ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      streams.push(res);
      if (endpoint) res.write(`event: endpoint\ndata: ${endpoint}\n\n`);
    } else {
      req.resume();
      res.writeHead(202).end();
    }
  });
  let url = '';
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sse`;
  });
  after(async () => {
    for (const s of streams) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('an endpoint on another origin is refused', async () => {
    endpoint = 'http://127.0.0.2:9/message';
    const transport = sse(url);
    await assert.rejects(transport.start(new TinyRpc(transport).handlers), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'protocol');
      assert.match(err.message, /"legacy".*another origin/);
      return true;
    });
    await transport.close();
  });

  test('no endpoint in time is a timeout naming the server', async () => {
    endpoint = '';
    const transport = sse(url, NO_CREDENTIALS, 300);
    await assert.rejects(transport.start(new TinyRpc(transport).handlers), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'timeout');
      assert.match(err.message, /"legacy"/);
      return true;
    });
    await transport.close();
  });

  test('a stream dropped after start closes the transport with an error', async () => {
    endpoint = '/message?sessionId=1';
    streams = [];
    const transport = sse(url);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.notify('notifications/initialized');
    for (const s of streams) s.destroy();
    const err = await rpc.closed;
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.failure, 'closed');
    await assert.rejects(rpc.notify('notifications/initialized'), (e: unknown) => e instanceof UpstreamError && e.failure === 'closed');
    await transport.close();
  });

  test('a dead port is unreachable, naming the server', async () => {
    const transport = sse(`http://127.0.0.1:${await freePort()}/sse`);
    await assert.rejects(transport.start(new TinyRpc(transport).handlers), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'unreachable');
      assert.match(err.message, /^upstream "legacy" unreachable: .*ECONNREFUSED/);
      return true;
    });
    await transport.close();
  });
});
