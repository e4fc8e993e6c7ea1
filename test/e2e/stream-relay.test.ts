import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startEverything, type RunningEverything } from '../fixtures/everything.js';
import { connectClient, TEST_KEY, textOf, type TestGateway, startTestGateway } from '../helpers/gateway.js';
import { messages, openRawSession, readSse, type RawSession } from '../helpers/sse-read.js';

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
  let session: RawSession;
  const clients: Client[] = [];

  before(async () => {
    fixture = await startConformanceServer({ port: 0 });
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${fixture.url}\n`);
    url = gw.mcpUrl('/mcp/fixture');
    session = await openRawSession(url, TEST_KEY);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await fixture?.stop();
  });

  it('answers on a stream that starts with a priming event of its own and carries the server retry', async () => {
    const s = await readSse(await session.post({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));
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
      await session.post({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } }),
    );
    assert.match(first.contentType, /text\/event-stream/);
    assert.equal(
      messages(first).find((m) => m.id === 8),
      undefined,
      'the answer comes after the server closed its stream',
    );
    const last = first.events.at(-1)!.id!;
    assert.match(last, /^tg-\d+-\d+$/);
    const resumed = await readSse(await session.get(last));
    const answer = messages(resumed).find((m) => m.id === 8);
    assert.ok(answer?.result, `the answer on the resumed stream: ${JSON.stringify(resumed.events)}`);
    assert.equal(answer.result.isError, undefined);
  });

  it('is resumed by the SDK client on its own; JSON-only and sessionless answers stay JSON', async () => {
    const client = await connectClient(url);
    clients.push(client);
    const r = await client.callTool({ name: 'test_reconnection', arguments: {} });
    assert.ok(textOf(r).length > 0);
    // A client that takes no event stream gets the answer as one JSON body, as before.
    const plain = await session.post({ jsonrpc: '2.0', id: 9, method: 'tools/list' }, 'application/json');
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await plain.json()) as Record<string, any>).id, 9);
    // And so does a request without a session (LiteLLM's curl way, Accept: */*): no session to resume a stream on.
    const curl = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', accept: '*/*' },
      body: JSON.stringify({ method: 'tools/list' }),
    });
    assert.match(curl.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(Array.isArray(((await curl.json()) as Record<string, any>).result.tools));
  });
});

describe('a streamed answer larger than stream_buffer_bytes', () => {
  let everything: RunningEverything;
  let gw: TestGateway;
  before(async () => {
    everything = await startEverything('streamableHttp');
    gw = await startTestGateway(
      `mcp_servers:\n  everything:\n    url: ${everything.url}\ntoolgate_settings:\n  stream_buffer_bytes: 65536\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await everything?.stop();
  });

  it('still reaches the client whole: the bound is for what precedes an answer, not for the answer', async () => {
    const session = await openRawSession(gw.mcpUrl('/mcp/everything'), TEST_KEY);
    const message = 'x'.repeat(300_000);
    const s = await readSse(
      await session.post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { message } } }),
    );
    assert.match(s.contentType, /text\/event-stream/, 'server-everything answers on an event stream');
    const answer = messages(s).find((m) => m.id === 5);
    assert.ok(textOf(answer?.result).includes(message), 'the whole answer');
  });
});
