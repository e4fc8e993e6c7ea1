import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as SSEClientTransportV1 } from '@modelcontextprotocol/sdk/client/sse.js';
import { createLogger } from '../../src/observe/log.js';
import { handleSseMessage, handleSseStream } from '../../src/edge/legacy-sse.js';
import { legacySsePath } from '../../src/edge/server.js';
import { SessionStore } from '../../src/edge/session-store.js';
import type { Router } from '../../src/router/route.js';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { EVERYTHING_STDIO, rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

const AUTH = { authorization: `Bearer ${TEST_KEY}` };

function sseClient(url: URL, seen: { sampling: number }): { client: Client; transport: SSEClientTransport } {
  const client = new Client({ name: 'legacy-sse-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async (req) => {
    seen.sampling++;
    const last = req.params.messages.at(-1)?.content as { text?: string } | undefined;
    return { model: 'sse-test-model', role: 'assistant', content: { type: 'text', text: `sampled<${last?.text ?? ''}>` } };
  });
  const transport = new SSEClientTransport(url, {
    eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...AUTH } }) },
    requestInit: { headers: AUTH },
  });
  return { client, transport };
}

/** A raw SSE reader: the events of one GET stream, as they arrive. */
interface RawStream {
  status: number;
  next(): Promise<{ event: string; data: string }>;
  /** The next JSON-RPC message, skipping the list_changed notices an upstream may send at any time. */
  message(): Promise<any>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = AUTH): Promise<RawStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: Array<{ event: string; data: string }> = [];
  const waiters: Array<() => void> = [];
  if (res.ok && res.body) {
    (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data });
          waiters.splice(0).forEach((w) => w());
        }
      }
    })().catch(() => {});
  } else await res.body?.cancel();
  const next = async () => {
    while (events.length === 0) await new Promise<void>((r) => waiters.push(r));
    return events.shift()!;
  };
  return {
    status: res.status,
    next,
    async message() {
      for (;;) {
        const e = await next();
        assert.equal(e.event, 'message');
        const m = JSON.parse(e.data);
        if (!/^notifications\/.*list_changed$/.test(m.method ?? '')) return m;
      }
    },
    close: () => abort.abort(),
  };
}

describe('legacy HTTP+SSE through the gateway', () => {
  let gw: TestGateway;
  let fixture: CatalogServer;
  const seen = { sampling: 0 };
  const clients: Client[] = [];

  before(async () => {
    fixture = await startCatalogServer({ name: 'fixture', tools: [tool('lookup')] });
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n  fixture:\n    url: ${fixture.url}\n`);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await gw?.close();
    await fixture?.stop();
  });

  async function connect(path: string): Promise<Client> {
    const { client, transport } = sseClient(gw.mcpUrl(path), seen);
    clients.push(client);
    await client.connect(transport);
    return client;
  }

  describe('one server: /mcp/everything/sse with the SDK v2 SSE client', () => {
    let client: Client;
    before(async () => {
      client = await connect('/mcp/everything/sse');
    });

    it('lists the server tools, including those offered to sampling clients', async () => {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('echo'), names.join(','));
      assert.ok(names.includes('trigger-sampling-request'), names.join(','));
    });

    it('calls echo', async () => {
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over sse' } })), 'Echo: over sse');
    });

    it('relays a sampling round trip on the stream', async () => {
      const before = seen.sampling;
      const r = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'sse-prompt', maxTokens: 20 } });
      assert.equal(seen.sampling, before + 1);
      assert.match(textOf(r), /sampled<[^>]*sse-prompt>/);
    });

    it('relays progress notifications', async () => {
      const progress: number[] = [];
      const r = await client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        { onprogress: (p) => void progress.push(p.progress) },
      );
      assert.match(textOf(r), /Long running operation completed/);
      // The SDK v2 client runs notification handlers a microtask late but settles responses at once, so
      // a last progress parsed from the same chunk as the response can miss its handler; the exact order
      // on the wire is checked by hand below.
      assert.ok(progress.length >= 1);
      assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
    });
  });

  describe('aggregate: /sse and /mcp/sse', () => {
    it('lists prefixed tools of both servers and calls one through /sse', async () => {
      const client = await connect('/sse');
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('everything-echo'), names.join(','));
      assert.ok(names.includes('fixture-lookup'), names.join(','));
      assert.equal(textOf(await client.callTool({ name: 'everything-echo', arguments: { message: 'agg' } })), 'Echo: agg');
    });

    it('keeps a server selected by query on the announced endpoint', async () => {
      const client = await connect('/sse?server=fixture');
      assert.deepEqual(
        (await client.listTools()).tools.map((t) => t.name),
        ['lookup'],
      );
    });

    it('serves LiteLLM clients on /mcp/sse with the SDK v1 client', async () => {
      const client = new ClientV1({ name: 'v1-sse', version: '1.0.0' });
      const transport = new SSEClientTransportV1(gw.mcpUrl('/mcp/sse'), {
        eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...AUTH } }) },
        requestInit: { headers: AUTH },
      });
      await client.connect(transport);
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes('everything-echo') && names.includes('fixture-lookup'), names.join(','));
        const r = await client.callTool({ name: 'fixture-lookup', arguments: {} });
        assert.notEqual(r.isError, true);
      } finally {
        await client.close();
      }
    });
  });

  describe('the wire, by hand', () => {
    it('announces a relative endpoint and answers a 2024-11-05 initialize on the stream', async () => {
      const stream = await openStream(gw.url + '/mcp/everything/sse');
      try {
        assert.equal(stream.status, 200);
        const endpoint = await stream.next();
        assert.equal(endpoint.event, 'endpoint');
        assert.match(endpoint.data, /^\/mcp\/everything\/sse\/messages\?sessionId=[A-Za-z0-9_-]{22}$/);
        const post = (body: unknown) => rawPost(new URL(endpoint.data, gw.url), JSON.stringify(body));

        const early = await post({ jsonrpc: '2.0', id: 0, method: 'tools/list' });
        assert.equal(early.status, 202);
        assert.equal((await stream.message()).error.code, -32600);

        const init = await post({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        });
        assert.equal(init.status, 202);
        assert.equal(init.text, 'Accepted');
        const result = (await stream.message()) as {
          id: number;
          result: { protocolVersion: string; capabilities: Record<string, unknown> };
        };
        assert.equal(result.id, 1);
        assert.equal(result.result.protocolVersion, '2024-11-05');
        assert.ok('tools' in result.result.capabilities);

        assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
        assert.equal(
          (await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'raw' } } })).status,
          202,
        );
        const call = (await stream.message()) as { id: number; result: unknown };
        assert.equal(call.id, 2);
        assert.equal(textOf(call.result), 'Echo: raw');

        const long = { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 }, _meta: { progressToken: 'tok' } };
        assert.equal((await post({ jsonrpc: '2.0', id: 'long', method: 'tools/call', params: long })).status, 202);
        const order: unknown[] = [];
        for (let i = 0; i < 4; i++) {
          const m = (await stream.message()) as { id?: string; params?: { progress: number; progressToken: string } };
          order.push(m.id ?? `${m.params!.progressToken}:${m.params!.progress}`);
        }
        assert.deepEqual(order, ['tok:1', 'tok:2', 'tok:3', 'long']);

        const again = await post({
          jsonrpc: '2.0',
          id: 3,
          method: 'initialize',
          params: { protocolVersion: '2024-11-05', capabilities: {} },
        });
        assert.equal(again.status, 202);
        assert.equal((await stream.message()).error.code, -32600);

        const url = new URL(endpoint.data, gw.url);
        assert.equal((await rawPost(url, '{"jsonrpc":"2.0","id":4,"method":"ping"}', { 'content-type': 'text/plain' })).status, 415);
        assert.equal((await rawPost(url, '{not json')).status, 400);
        assert.equal(
          (await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'x', params: 'p'.repeat(5_000_000) }))).status,
          413,
        );
        // The same session on another route, or over Streamable HTTP, does not exist.
        const id = url.searchParams.get('sessionId')!;
        assert.equal((await rawPost(`${gw.url}/sse/messages?sessionId=${id}`, '{"jsonrpc":"2.0","id":6,"method":"ping"}')).status, 404);
        assert.equal(
          (await rawPost(gw.url + '/mcp/everything', '{"jsonrpc":"2.0","id":7,"method":"ping"}', { 'mcp-session-id': id })).status,
          404,
        );
      } finally {
        stream.close();
      }
    });

    it('refuses requests without the key', async () => {
      assert.equal((await openStream(gw.url + '/sse', {})).status, 401);
      assert.equal((await openStream(gw.url + '/mcp/everything/sse', { authorization: 'Bearer wrong-key' })).status, 401);
      const r = await fetch(gw.url + '/sse/messages?sessionId=x', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      assert.equal(r.status, 401);
    });

    it('answers 404 for an unknown session and 400 without one', async () => {
      const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
      assert.equal((await rawPost(gw.url + '/sse/messages?sessionId=AAAAAAAAAAAAAAAAAAAAAA', body)).status, 404);
      assert.equal((await rawPost(gw.url + '/sse/messages', body)).status, 400);
    });

    it('ends the session when the stream closes', async () => {
      const stream = await openStream(gw.url + '/sse');
      const url = new URL((await stream.next()).data, gw.url);
      const ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
      assert.equal((await rawPost(url, ping)).status, 202);
      stream.close();
      // The close reaches the gateway asynchronously; the session must be gone once it has.
      const status = await until(async () => {
        const s = (await rawPost(url, ping)).status;
        return s !== 202 && s;
      }, 'the session to go with its stream');
      assert.equal(status, 404);
    });
  });
});

describe('legacy HTTP+SSE sessions belong to the key that opened them', () => {
  let server: Server;
  let base: string;
  const closed: string[] = [];
  const sessions = new SessionStore(60_000);

  before(async () => {
    // Two keys, told apart by the edge; the route answers every request itself.
    const router: Router = {
      open: (scope) => ({
        initialize: async () => ({ capabilities: { tools: {} }, serverInfo: { name: 'stub', version: '1' } }),
        request: async (method) => ({ method, servers: scope.servers }),
        notify: async () => {},
        close: async () => void closed.push(scope.servers.join(',')),
      }),
    };
    const limits = { maxBodyBytes: 65_536, maxJsonDepth: 64, maxBatchSize: 50, streamBufferBytes: 4 * 1024 * 1024 };
    const deps = { router, sessions, limits, upstreamHeaders: () => () => undefined, log: createLogger({ level: 'silent' }) };
    server = createServer((req, res) => {
      const q = req.url!.indexOf('?');
      const path = q < 0 ? req.url! : req.url!.slice(0, q);
      const sse = legacySsePath(path)!;
      const keyId = String(req.headers['x-test-key']);
      const inb = { req, res, caller: { keyId, isMaster: false }, scope: { servers: ['stub'], aggregate: false }, log: { route: path } };
      if (sse.kind === 'stream') handleSseStream(inb, deps, path);
      else void handleSseMessage(inb, deps, q < 0 ? undefined : new URLSearchParams(req.url!.slice(q + 1)));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await sessions.closeAll();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("refuses another key's session with 404 and serves the owner", async () => {
    const stream = await openStream(base + '/mcp/stub/sse', { 'x-test-key': 'alice' });
    try {
      const url = new URL((await stream.next()).data, base);
      const init = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2024-11-05', capabilities: {} },
      });
      assert.equal((await rawPost(url, init, { 'x-test-key': 'bob' })).status, 404);
      assert.equal((await rawPost(url, init, { 'x-test-key': 'alice' })).status, 202);
      assert.equal((await stream.message()).result.protocolVersion, '2024-11-05');
      assert.equal((await rawPost(url, '{"jsonrpc":"2.0","id":2,"method":"tools/list"}', { 'x-test-key': 'bob' })).status, 404);
      assert.equal((await rawPost(url, '{"jsonrpc":"2.0","id":2,"method":"tools/list"}', { 'x-test-key': 'alice' })).status, 202);
      assert.deepEqual(await stream.message(), { jsonrpc: '2.0', id: 2, result: { method: 'tools/list', servers: ['stub'] } });
    } finally {
      stream.close();
    }
    await until(() => closed.length > 0, 'the route to close');
    assert.deepEqual(closed, ['stub'], 'closing the stream closes the route');
  });
});
