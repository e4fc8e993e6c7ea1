import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

/** Issue 11 item 5: a GET stream its client never reads, in front of a chatty upstream. */

const BUFFER = 65_536;

describe('a GET stream that is never read', () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  let reader: Socket | undefined;

  before(async () => {
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n` +
        `toolgate_settings:\n  stream_buffer_bytes: ${BUFFER}\n  session_ttl_seconds: 1\n`,
    );
  });
  after(async () => {
    reader?.destroy();
    await gw?.close();
    await recorder?.stop();
  });

  async function sessions(): Promise<number> {
    const r = await fetch(new URL('/health/readiness', gw.url));
    return ((await r.json()) as { sessions: number }).sessions;
  }

  it('is closed once stream_buffer_bytes are unread, and then no longer keeps its session alive', async () => {
    const url = gw.mcpUrl('/mcp/rec');
    const init = await rawPost(
      url,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'stalled', version: '1' } },
      }),
    );
    const sid = init.headers.get('mcp-session-id')!;
    const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    await rawPost(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    // The dedicated upstream session (and its GET stream, which relays the pushes) opens on first use.
    await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), headers);

    // A client that opens the stream, reads the response headers, then never reads again.
    const { port } = new URL(gw.url);
    reader = connect({ host: '127.0.0.1', port: Number(port) });
    reader.on('error', () => {});
    await new Promise<void>((resolve) => reader!.once('connect', () => resolve()));
    reader.write(
      `GET /mcp/rec HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_KEY}\r\nAccept: text/event-stream\r\n` +
        `Mcp-Session-Id: ${sid}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n`,
    );
    await new Promise<void>((resolve) => reader!.once('data', () => resolve()));
    reader.pause();

    const note = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x'.repeat(256 * 1024) } };
    const pusher = setInterval(() => recorder.push(note), 5);
    try {
      await within(
        (async () => {
          while (!gw.logs.some((l) => l.includes('stream_buffer_bytes unread'))) await new Promise((r) => setTimeout(r, 20));
        })(),
        'the gateway to close the unread stream',
        20_000,
      );
    } finally {
      clearInterval(pusher);
    }
    // The client still holds its socket, unread: the session expires after its TTL all the same.
    await within(
      (async () => {
        while ((await sessions()) > 0) await new Promise((r) => setTimeout(r, 50));
      })(),
      'the stalled session to expire',
    );
    assert.equal((await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }), headers)).status, 404);
  });
});
