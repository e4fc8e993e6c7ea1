import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import { NO_CREDENTIALS } from '../../src/upstream/credentials/types.js';
import { LazyAbort } from '../../src/mcp/lazy-abort.js';
import { dispatchRequest } from '../../src/upstream/dispatch.js';
import { StreamableHttpTransport } from '../../src/upstream/http.js';
import { UpstreamSession } from '../../src/upstream/session.js';
import { until } from '../helpers/within.js';

/**
 * Upstream exchanges run on undici's dispatch with a lazily bound abort (no AbortController per
 * request): a request nobody waits for any more must still end its HTTP exchange, so the upstream
 * sees the connection go, and a body nobody reads yet must pause the connection, not pile up.
 */

type Handler = (msg: { id?: number; method?: string }, req: IncomingMessage, res: ServerResponse) => void;

/** A 2025-03-26 upstream whose tools/call answer is up to each test. */
async function upstream(onCall: Handler): Promise<{ url: string; closed: string[]; posted: string[]; server: Server }> {
  const closed: string[] = [];
  /** The method of every message posted, notifications too. */
  const posted: string[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(405).end();
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const msg = JSON.parse(raw) as { id?: number; method?: string; params?: Record<string, unknown> };
      posted.push(msg.method ?? '?');
      if (msg.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
        return void res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: msg.id,
            result: { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 'x', version: '1' } },
          }),
        );
      }
      if (msg.id === undefined) return void res.writeHead(202).end();
      res.on('close', () => {
        if (!res.writableFinished) closed.push(msg.method ?? '?');
      });
      onCall(msg, req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, closed, posted, server };
}

async function session(url: string, timeoutMs = 10_000): Promise<UpstreamSession> {
  const transport = new StreamableHttpTransport({ url, credentials: NO_CREDENTIALS, serverName: 'slow', timeoutMs: 10_000 });
  const s = new UpstreamSession('slow', transport, timeoutMs);
  await s.initialize({ protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  return s;
}

describe('upstream exchanges on dispatch', () => {
  let up: Awaited<ReturnType<typeof upstream>>;
  let mode: 'silent' | 'stream' = 'silent';
  before(async () => {
    up = await upstream((msg, _req, res) => {
      if (mode === 'silent') return; // never answers
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const token = (msg as { params?: { _meta?: { progressToken?: number } } }).params?._meta?.progressToken;
      res.write(
        `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1 } })}\n\n`,
      );
      // ...and the answer never comes.
    });
  });
  after(() => {
    up.server.closeAllConnections();
    up.server.close();
  });

  test('a client cancel before the answer ends the upstream connection', async () => {
    mode = 'silent';
    up.closed.length = 0;
    const s = await session(up.url);
    const ac = new AbortController();
    const call = s.request('tools/call', { name: 'slow' }, { signal: ac.signal });
    await until(() => s.inFlight === 1, 'the call in flight');
    setTimeout(() => ac.abort('cancelled by client'), 50);
    await assert.rejects(call, /request cancelled: cancelled by client/);
    await until(() => up.closed.includes('tools/call'), 'the upstream to see the exchange end', { ms: 3_000 });
    assert.equal(s.inFlight, 0);
    await s.close();
  });

  test('a cancel while the answer streams (progress already relayed) ends the upstream connection', async () => {
    mode = 'stream';
    up.closed.length = 0;
    const s = await session(up.url);
    const ac = new AbortController();
    const progress: unknown[] = [];
    const call = s.request('tools/call', { name: 'slow' }, { signal: ac.signal, onProgress: (p) => progress.push(p) });
    // The progress event is parsed as its chunk arrives, long before the body ends.
    await until(() => progress.length === 1, 'the progress event');
    ac.abort('cancelled by client');
    await assert.rejects(call, /cancelled/);
    await until(() => up.closed.includes('tools/call'), 'the upstream to see the exchange end', { ms: 3_000 });
    await s.close();
  });

  test('the session timeout ends the upstream connection too', async () => {
    mode = 'silent';
    up.closed.length = 0;
    const s = await session(up.url, 200);
    await assert.rejects(s.request('tools/call', { name: 'slow' }), /did not answer tools\/call/);
    await until(() => up.closed.includes('tools/call'), 'the upstream to see the exchange end', { ms: 3_000 });
    await s.close();
  });

  test('closing the session ends an exchange still waiting', async () => {
    mode = 'stream';
    up.closed.length = 0;
    const s = await session(up.url);
    const call = s.request('tools/call', { name: 'slow' });
    await until(() => s.inFlight === 1, 'the call in flight');
    await new Promise((r) => setTimeout(r, 50));
    const rejected = assert.rejects(call, /session closed/);
    await s.close();
    await rejected;
    await until(() => up.closed.includes('tools/call'), 'the upstream to see the exchange end', { ms: 3_000 });
  });

  test('a request cancelled before it is sent reaches the upstream neither as a call nor as a cancel', async () => {
    const s = await session(up.url);
    up.posted.length = 0;
    const cancel = new LazyAbort();
    cancel.abort('client went away');
    await assert.rejects(s.request('tools/call', { name: 'never' }, { signal: cancel }), /request cancelled: client went away/);
    assert.equal(s.inFlight, 0);
    // A notification sent after it arrives after anything the request would have sent.
    await s.notify('notifications/roots/list_changed');
    await until(() => up.posted.includes('notifications/roots/list_changed'), 'the marker notification');
    assert.deepEqual(up.posted, ['notifications/roots/list_changed']);
    await s.close();
  });
});

/** Runs `body` against a plain HTTP server through a pool of its own; both are gone afterwards. */
async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (pool: Pool, origin: string) => Promise<void>,
): Promise<void> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new Pool(origin);
  try {
    await body(pool, origin);
  } finally {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  }
}

describe('dispatchRequest', () => {
  test('a body nobody reads yet pauses the connection, then arrives whole', async () => {
    const total = 4 * 1024 * 1024;
    let written = 0;
    let finished = false;
    const pumpOut = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(() => (finished = true));
      };
      pump();
    };
    await withServer(pumpOut, async (pool, origin) => {
      const res = await dispatchRequest(pool, { origin, path: '/', method: 'GET' });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(finished, false, 'the server is held back while the body is not read');
      assert.ok(written < total);
      let size = 0;
      await res.body.each((c) => void (size += c.length));
      assert.equal(size, total);
      assert.equal(res.body.destroyed, true);
    });
  });

  test('dump drains a small rest and drops a large one', async () => {
    const sized = (req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200);
      res.end(Buffer.alloc(req.url === '/big' ? 1024 * 1024 : 100, 'y'));
    };
    await withServer(sized, async (pool, origin) => {
      const small = await dispatchRequest(pool, { origin, path: '/small', method: 'GET' });
      await small.body.dump();
      assert.equal(small.body.destroyed, true);
      const big = await dispatchRequest(pool, { origin, path: '/big', method: 'GET' });
      await big.body.dump({ limit: 1024 });
      assert.equal(big.body.destroyed, true);
      await assert.rejects(
        big.body.each(() => {}),
        /aborted/i,
      );
      // The pool still serves the next request after the dropped connection.
      const again = await dispatchRequest(pool, { origin, path: '/small', method: 'GET' });
      let size = 0;
      await again.body.each((c) => void (size += c.length));
      assert.equal(size, 100);
    });
  });
});
