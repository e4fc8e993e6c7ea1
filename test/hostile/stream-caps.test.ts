import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { messages, openRawSession, readSse } from '../helpers/sse-read.js';
import { MAX_UNCLAIMED_STREAMS, ResumableStreams } from '../../src/edge/resumable.js';
import type { SseStream } from '../../src/edge/sse.js';

const RECONNECT = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } };
const ABANDONED = MAX_UNCLAIMED_STREAMS + 4;

/** A stand-in for a client's SSE response: enough for ResumableStream to write to and close. */
function fakeStream(): SseStream {
  const s = { closed: false, onClose: undefined as (() => void) | undefined, event() {}, retry() {}, end() {} };
  s.end = () => {
    if (s.closed) return;
    s.closed = true;
    s.onClose?.();
  };
  return s as unknown as SseStream;
}

/** Streams a client abandons (SEP-1699 resumable answers) must not pile up in a session. */
describe('abandoned resumable streams are capped per session', () => {
  let fixture: RunningConformanceServer;
  let gw: TestGateway;

  before(async () => {
    fixture = await startConformanceServer({ port: 0 });
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${fixture.url}\n`);
  });
  after(async () => {
    await gw?.close();
    await fixture?.stop();
  });

  it(`keeps at most ${MAX_UNCLAIMED_STREAMS} unclaimed streams, the oldest dropped first`, async () => {
    const session = await openRawSession(gw.mcpUrl('/mcp/fixture'), TEST_KEY);
    // The session's own GET stream is open, so a Last-Event-ID the gateway no longer holds is a 409.
    const standalone = new AbortController();
    const get = await session.get(undefined, standalone.signal);
    assert.equal(get.status, 200);
    const lastIds: string[] = [];
    for (let id = 1; id <= ABANDONED; id++) {
      const first = await readSse(await session.post({ ...RECONNECT, id }));
      assert.equal(
        messages(first).find((m) => m.id === id),
        undefined,
        'the stream ended before the answer',
      );
      lastIds.push(first.events.at(-1)!.id!);
    }
    for (const [i, last] of lastIds.entries()) {
      const res = await session.get(last);
      if (i < ABANDONED - MAX_UNCLAIMED_STREAMS) {
        assert.equal(res.status, 409, `stream ${i + 1} was dropped`);
        await res.text();
        continue;
      }
      assert.equal(res.status, 200);
      const resumed = await readSse(res);
      assert.equal(messages(resumed).filter((m) => m.id === i + 1).length, 1, `stream ${i + 1} kept its answer`);
    }
    standalone.abort();
  });

  it('drops the oldest unclaimed streams beyond the byte cap, and never a stream someone reads', () => {
    const streams = new ResumableStreams();
    const read = streams.open(Infinity);
    read.start(fakeStream());
    const big = 'x'.repeat(6 * 1024 * 1024);
    const abandoned = [1, 2, 3].map((n) => {
      const s = streams.open(Infinity);
      const client = fakeStream();
      s.start(client);
      client.end();
      s.finish({ jsonrpc: '2.0', id: n, result: { big } });
      return s;
    });
    // 3 x 6 MiB is over 16 MiB: the first went; the stream being read is not counted, nor dropped.
    assert.equal(streams.unclaimedCount, 2);
    assert.equal(abandoned[0]!.size, 0);
    assert.ok(abandoned[2]!.size > 0);
    assert.equal(read.send({ jsonrpc: '2.0', method: 'notifications/progress', params: {} }), true);
    streams.close();
  });
});
