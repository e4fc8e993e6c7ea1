import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createParser } from 'eventsource-parser';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { connectClient, TEST_KEY, textOf, type TestGateway, startTestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

interface Sse {
  contentType: string;
  events: Array<{ id?: string; data: string }>;
  retries: number[];
}

/** Reads a whole SSE response (until the server ends it); a guard, not a timing assertion, against one that never ends. */
async function readSse(res: Response): Promise<Sse> {
  const out: Sse = { contentType: res.headers.get('content-type') ?? '', events: [], retries: [] };
  if (!out.contentType.includes('text/event-stream')) {
    await res.text();
    return out;
  }
  const parser = createParser({ onEvent: (e) => out.events.push({ id: e.id, data: e.data }), onRetry: (ms) => out.retries.push(ms) });
  const decoder = new TextDecoder();
  await within(
    (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    })(),
    'the event stream to end',
  );
  return out;
}

const messages = (s: Sse) => s.events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as Record<string, any>);

/**
 * The conformance fixture answers 2025 session requests on event streams with a priming event and a
 * `retry`, and its `test_reconnection` tool ends the stream before answering (SEP-1699 polling).
 * Through the gateway a client that accepts SSE must get the same: a stream, with event ids of the
 * gateway's own, resumable with Last-Event-ID on its session.
 */
describe('upstream event streams relayed as streams (SEP-1699)', () => {
  let fixture: RunningConformanceServer;
  let gw: TestGateway;
  let url: URL;
  let session: string;
  const clients: Client[] = [];

  const post = (body: unknown, accept = 'application/json, text/event-stream') =>
    fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_KEY}`,
        'content-type': 'application/json',
        accept,
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify(body),
    });

  before(async () => {
    fixture = await startConformanceServer({ port: 0 });
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${fixture.url}\n`);
    url = gw.mcpUrl('/mcp/fixture');
    const init = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'relay-test', version: '1' } },
      }),
    });
    session = init.headers.get('mcp-session-id')!;
    await init.text();
    assert.ok(session, 'a session id');
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await fixture?.stop();
  });

  it('answers on a stream that starts with a priming event of its own and carries the server retry', async () => {
    const s = await readSse(await post({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));
    assert.match(s.contentType, /text\/event-stream/);
    assert.deepEqual(s.events[0]?.data, '', 'the first event primes the stream');
    for (const e of s.events) assert.match(String(e.id), /^tg-\d+-\d+$/, 'every event id is the gateway one, never the upstream one');
    assert.ok(s.retries.length > 0, 'the server retry reaches the client');
    const [answer] = messages(s);
    assert.equal(answer?.id, 7);
    assert.ok(answer?.result.tools.some((t: { name: string }) => t.name === 'test_reconnection'));
  });

  it('ends the stream when the server does, and resumes it on GET with Last-Event-ID', async () => {
    const first = await readSse(
      await post({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } }),
    );
    assert.match(first.contentType, /text\/event-stream/);
    assert.equal(
      messages(first).find((m) => m.id === 8),
      undefined,
      'the answer comes after the server closed its stream',
    );
    const last = first.events.at(-1)!.id!;
    assert.match(last, /^tg-\d+-\d+$/);
    const resumed = await readSse(
      await fetch(url, {
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          accept: 'text/event-stream',
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-11-25',
          'last-event-id': last,
        },
      }),
    );
    const answer = messages(resumed).find((m) => m.id === 8);
    assert.ok(answer?.result, `the answer on the resumed stream: ${JSON.stringify(resumed.events)}`);
    assert.equal(answer.result.isError, undefined);
  });

  it('is resumed by the SDK client on its own, and a JSON-only answer stays JSON', async () => {
    const client = await connectClient(url);
    clients.push(client);
    const r = await client.callTool({ name: 'test_reconnection', arguments: {} });
    assert.ok(textOf(r).length > 0);
    // A client that takes no event stream gets the answer as one JSON body, as before.
    const plain = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list' }, 'application/json');
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await plain.json()) as Record<string, any>).id, 9);
  });
});
