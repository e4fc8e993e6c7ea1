import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { messages, openRawSession, readSse, type RawSession } from '../helpers/sse-read.js';

const RECONNECT = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } };

/** Resuming relayed streams (SEP-1699) with ids that are not the client's to use, or not ids at all. */
describe('Last-Event-ID that is forged, foreign or stale', () => {
  let fixture: RunningConformanceServer;
  let gw: TestGateway;
  let url: URL;

  before(async () => {
    fixture = await startConformanceServer({ port: 0 });
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${fixture.url}\n`);
    url = gw.mcpUrl('/mcp/fixture');
  });
  after(async () => {
    await gw?.close();
    await fixture?.stop();
  });

  /** A call whose upstream stream ends before its answer: the id to resume from. */
  async function paused(session: RawSession, id: number): Promise<string> {
    const first = await readSse(await session.post({ ...RECONNECT, id }));
    assert.equal(
      messages(first).find((m) => m.id === id),
      undefined,
      'the stream ended before the answer',
    );
    return first.events.at(-1)!.id!;
  }

  it("does not hand one session's answer to another session of the same key", async () => {
    const owner = await openRawSession(url, TEST_KEY);
    const other = await openRawSession(url, TEST_KEY);
    const last = await paused(owner, 21);
    // The other session names the owner's event id: it gets a stream of its own (its GET stream), nothing replayed.
    const ac = new AbortController();
    const foreign = await other.get(last, ac.signal);
    assert.equal(foreign.status, 200);
    assert.equal(foreign.headers.get('mcp-session-id'), other.id);
    ac.abort();
    const resumed = await readSse(await owner.get(last));
    assert.equal(messages(resumed).filter((m) => m.id === 21).length, 1, 'the owner gets its answer, once');
  });

  it('treats ids it never issued as no resumption, and stays up', async () => {
    const session = await openRawSession(url, TEST_KEY);
    for (const forged of ['tg-999999-0', 'tg-1-', 'x'.repeat(4000), '::00000001', 'tg-0-0\u0000']) {
      const ac = new AbortController();
      const r = await session.get(forged, ac.signal).catch((err: Error) => err);
      if (r instanceof Error) {
        // A header value fetch itself refuses to send (the NUL) never reached the gateway.
        assert.match(r.message, /header|invalid/i);
        continue;
      }
      assert.ok(
        r.status === 200 || r.status === 409 || r.status === 400 || r.status === 431,
        `HTTP ${r.status} for ${forged.slice(0, 20)}`,
      );
      ac.abort();
    }
    const listed = await readSse(await session.post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
    assert.equal(messages(listed)[0]?.id, 3, 'the gateway still answers');
  });
});
