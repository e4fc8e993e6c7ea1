import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Credentials, OutboundRequest } from '../../src/upstream/credentials/types.js';
import { NO_CREDENTIALS } from '../../src/upstream/credentials/types.js';
import { StreamableHttpTransport } from '../../src/upstream/http.js';
import { UpstreamError } from '../../src/upstream/transport.js';
import { freePort, startEverything, type RunningEverything } from '../fixtures/everything.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { TinyRpc, exerciseEverything, firstText, toolNames } from './tiny-rpc.js';
import { until } from '../helpers/within.js';

const SECRET = 'tok-0123456789-very-secret';

function http(url: string, credentials: Credentials = NO_CREDENTIALS, serverName = 'github') {
  return new StreamableHttpTransport({ url, credentials, serverName, timeoutMs: 10_000 });
}

/** Adds a bearer token and remembers what it was asked to sign. */
function bearer(token: () => string): Credentials & { seen: OutboundRequest[] } {
  const seen: OutboundRequest[] = [];
  return {
    seen,
    apply(req) {
      seen.push({ ...req, headers: { ...req.headers } });
      req.headers.authorization = `Bearer ${token()}`;
    },
  };
}

describe('StreamableHttpTransport against server-everything', () => {
  let everything: RunningEverything;
  before(async () => {
    everything = await startEverything('streamableHttp');
  });
  after(() => everything.stop());

  test('initialize, tools/list, tools/call echo', async () => {
    const transport = http(everything.url);
    await exerciseEverything(transport);
    assert.ok(transport.session, 'the upstream assigned a session id');
    await transport.close();
    await transport.close();
  });
});

describe('StreamableHttpTransport on the wire (header recorder)', () => {
  let recorder: HeaderRecorder;
  before(async () => {
    recorder = await startHeaderRecorder();
  });
  after(() => recorder.stop());

  test('credentials, session and version headers on POST, GET and DELETE; per-request headers win', async () => {
    recorder.requests.length = 0;
    const creds = bearer(() => SECRET);
    const transport = http(recorder.url, creds);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    const sid = transport.session;
    assert.ok(sid);
    const echoed = await rpc.request(
      'tools/call',
      { name: 'echo', arguments: { message: 'hi' } },
      { headers: { Authorization: 'Bearer per-request' } },
    );
    assert.deepEqual(JSON.parse(firstText(echoed)), { message: 'hi' });

    transport.openEventStream();
    await until(() => recorder.openStreams() === 1, 'the GET stream');
    recorder.push({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await until(() => rpc.others.some((m) => m.method === 'notifications/tools/list_changed'), 'the pushed notification');
    await transport.close();

    const [init, initialized, call] = recorder.requests.filter((r) => r.method === 'POST');
    assert.equal(init.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(init.headers['content-type'], 'application/json');
    assert.equal(init.headers.accept, 'application/json, text/event-stream');
    assert.equal(init.headers['mcp-session-id'], undefined);
    assert.equal(init.headers['mcp-protocol-version'], undefined);
    for (const r of [initialized, call]) {
      assert.equal(r.headers['mcp-session-id'], sid);
      assert.equal(r.headers['mcp-protocol-version'], '2025-11-25');
    }
    assert.equal(initialized.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(call.headers.authorization, 'Bearer per-request');

    const get = recorder.requests.find((r) => r.method === 'GET');
    assert.ok(get, 'a GET stream was opened');
    assert.equal(get.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(get.headers.accept, 'text/event-stream');
    assert.equal(get.headers['mcp-session-id'], sid);
    const del = recorder.requests.find((r) => r.method === 'DELETE');
    assert.ok(del, 'close() deleted the session');
    assert.equal(del.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(del.headers['mcp-session-id'], sid);

    // Signers see the exact bytes that went out.
    const signedPosts = creds.seen.filter((r) => r.method === 'POST');
    assert.deepEqual(
      signedPosts.map((r) => r.body),
      recorder.requests.filter((r) => r.method === 'POST').map((r) => r.body),
    );
    assert.deepEqual(
      creds.seen.map((r) => r.method),
      ['POST', 'POST', 'POST', 'GET', 'DELETE'],
    );
  });

  test('the GET stream reconnects after a drop, with last-event-id', async () => {
    recorder.requests.length = 0;
    const transport = http(recorder.url);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    transport.openEventStream();
    await until(() => recorder.openStreams() === 1, 'the GET stream');
    recorder.push({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'one' } });
    await until(() => rpc.others.length === 1, 'the first event');
    recorder.dropStreams();
    await until(() => recorder.requests.filter((r) => r.method === 'GET').length === 2, 'a reconnect');
    const reconnect = recorder.requests.filter((r) => r.method === 'GET')[1];
    assert.match(String(reconnect.headers['last-event-id']), /^\d+$/);
    await transport.close();
  });

  test('a JSON-RPC error answer is dispatched, not thrown', async () => {
    const transport = http(recorder.url);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    await assert.rejects(rpc.request('nope/nothing'), /Method not found/);
    await transport.close();
  });

  test('404 for our session is session-lost; a new initialize starts over', async () => {
    const transport = http(recorder.url);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    recorder.forgetSessions();
    await assert.rejects(rpc.request('tools/list'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'session-lost');
      assert.equal(err.status, 404);
      assert.match(err.message, /"github"/);
      return true;
    });
    assert.equal(transport.session, undefined);
    await rpc.handshake();
    assert.ok(toolNames(await rpc.request('tools/list')).includes('echo'));
    await transport.close();
  });

  test('other non-2xx answers are http-status with the status and a short body', async () => {
    const transport = http(recorder.url.replace('/mcp', '/elsewhere'));
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await assert.rejects(rpc.request('initialize'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'http-status');
      assert.equal(err.status, 404);
      assert.match(err.message, /HTTP 404/);
      return true;
    });
    await transport.close();
  });

  test('an already aborted signal rejects with its reason', async () => {
    const transport = http(recorder.url);
    const reason = new Error('caller gave up');
    await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }, { signal: AbortSignal.abort(reason) }), reason);
    await transport.close();
  });
});

describe('StreamableHttpTransport SSE replies', () => {
  let recorder: HeaderRecorder;
  before(async () => {
    recorder = await startHeaderRecorder({ respondWith: 'sse' });
  });
  after(() => recorder.stop());

  test('answers streamed as events (after a priming event) are dispatched', async () => {
    const transport = http(recorder.url);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    assert.ok(transport.session);
    const echoed = await rpc.request('tools/call', { name: 'echo', arguments: { message: 'streamed' } });
    assert.deepEqual(JSON.parse(firstText(echoed)), { message: 'streamed' });
    await transport.close();
  });
});

describe('StreamableHttpTransport resumption', () => {
  let recorder: HeaderRecorder;
  before(async () => {
    recorder = await startHeaderRecorder({ respondWith: 'sse-then-resume' });
  });
  after(() => recorder.stop());

  test('a response stream that ends before the answer is resumed with GET + Last-Event-ID', async () => {
    const transport = http(
      recorder.url,
      bearer(() => SECRET),
    );
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    const echoed = await rpc.request('tools/call', { name: 'echo', arguments: { message: 'later' } });
    assert.deepEqual(JSON.parse(firstText(echoed)), { message: 'later' });
    const resumes = recorder.requests.filter((r) => r.method === 'GET');
    assert.equal(resumes.length, 2, 'initialize and tools/call were each resumed once');
    for (const r of resumes) {
      assert.match(String(r.headers['last-event-id']), /^\d+$/);
      assert.equal(r.headers.authorization, `Bearer ${SECRET}`);
    }
    await transport.close();
  });
});

describe('StreamableHttpTransport 401 handling', () => {
  let recorder: HeaderRecorder;
  before(async () => {
    recorder = await startHeaderRecorder({ authorize: (h) => h.authorization === 'Bearer fresh' });
  });
  after(() => recorder.stop());

  test('401 → refresh once → the same request is retried', async () => {
    recorder.requests.length = 0;
    let token = 'stale';
    let refreshes = 0;
    const creds: Credentials = {
      apply(req) {
        req.headers.authorization = `Bearer ${token}`;
      },
      async refresh() {
        refreshes++;
        token = 'fresh';
        return true;
      },
    };
    const transport = http(recorder.url, creds);
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    assert.equal(refreshes, 1);
    const posts = recorder.requests.filter((r) => r.method === 'POST');
    assert.deepEqual(
      posts.map((r) => r.headers.authorization),
      ['Bearer stale', 'Bearer fresh', 'Bearer fresh'],
    );
    assert.equal(posts[0].body, posts[1].body);
    await transport.close();
  });

  test('401 after a refresh that cannot help is unauthorized, tried once', async () => {
    recorder.requests.length = 0;
    let refreshes = 0;
    const creds: Credentials = {
      apply(req) {
        req.headers.authorization = `Bearer ${SECRET}`;
      },
      async refresh() {
        refreshes++;
        return true;
      },
    };
    const transport = http(recorder.url, creds);
    await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure, 'unauthorized');
      assert.equal(err.status, 401);
      assert.doesNotMatch(err.message, new RegExp(SECRET));
      return true;
    });
    assert.equal(refreshes, 1);
    assert.equal(recorder.requests.length, 2);
    await transport.close();
  });
});

test('a dead port is unreachable, naming the server and the cause but no secret', async () => {
  const port = await freePort();
  const transport = http(
    `http://127.0.0.1:${port}/mcp`,
    bearer(() => SECRET),
    'github',
  );
  await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), (err: unknown) => {
    assert.ok(err instanceof UpstreamError);
    assert.equal(err.failure, 'unreachable');
    assert.match(err.message, /^upstream "github" unreachable: .*ECONNREFUSED/);
    assert.ok(!err.message.includes(SECRET));
    return true;
  });
  await transport.close();
});

test('an answer that is not JSON is a protocol failure', async () => {
  const bodies: Record<string, [string, string]> = {
    '/html': ['text/html', '<html>hi</html>'],
    '/broken': ['application/json', '{"jsonrpc":'],
  };
  const server = createServer((req, res) => {
    const [type, body] = bodies[req.url ?? ''] ?? ['text/plain', ''];
    req.resume();
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const [path, why] of [
      ['/html', /content-type "text\/html"/],
      ['/broken', /invalid JSON/],
    ] as const) {
      const transport = http(base + path);
      await assert.rejects(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' }), (err: unknown) => {
        assert.ok(err instanceof UpstreamError);
        assert.equal(err.failure, 'protocol');
        assert.match(err.message, /^upstream "github" /);
        assert.match(err.message, why);
        return true;
      });
      await transport.close();
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
