import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

/** Connection-level abuse (issue 11 items 7 and 15): slow clients are dropped, aborted bodies are the client's doing. */

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: hostname, port: Number(port) }, () => resolve(s));
    s.on('error', reject);
  });
}

function closed(s: Socket): Promise<string> {
  let data = '';
  s.on('data', (d) => (data += String(d)));
  s.on('error', () => {});
  return new Promise((resolve) => s.on('close', () => resolve(data)));
}

function logLines(gw: TestGateway): Array<Record<string, unknown>> {
  return gw.logs
    .flatMap((c) => c.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('slow and aborting clients', () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  const sockets: Socket[] = [];

  before(async () => {
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n` +
        `toolgate_settings:\n  header_timeout_seconds: 0.5\n  request_timeout_seconds: 1\n  max_connections: 4\n`,
    );
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await gw?.close();
    await recorder?.stop();
  });

  it('drops a client that sends its headers a byte at a time past header_timeout_seconds', async () => {
    const s = await open(gw.url);
    sockets.push(s);
    const done = closed(s);
    s.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => s.writable && s.write('x'), 50);
    try {
      const answer = await within(done, 'the gateway to drop the slow-headers connection');
      assert.match(answer, /^(HTTP\/1\.1 408|)/);
    } finally {
      clearInterval(drip);
    }
  });

  it('drops a client whose body trickles in past request_timeout_seconds', async () => {
    const s = await open(gw.url);
    sockets.push(s);
    const done = closed(s);
    s.write(
      `POST /mcp/rec HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_KEY}\r\n` +
        'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{',
    );
    const drip = setInterval(() => s.writable && s.write(' '), 50);
    try {
      await within(done, 'the gateway to drop the slow-body connection');
    } finally {
      clearInterval(drip);
    }
  });

  it('refuses connections beyond max_connections, and serves again once they go', async () => {
    const held = await Promise.all([open(gw.url), open(gw.url), open(gw.url), open(gw.url)]);
    sockets.push(...held);
    const extra = await open(gw.url).catch(() => undefined);
    if (extra) {
      sockets.push(extra);
      const done = closed(extra);
      extra.write('GET /health/liveliness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const answer = await within(done, 'the fifth connection to be refused');
      assert.equal(answer, '', 'refused before any answer');
    }
    for (const s of held) s.destroy();
    const live = await within(
      (async () => {
        for (;;) {
          const r = await fetch(gw.url + '/health/liveliness').catch(() => undefined);
          if (r?.status === 200) return r.status;
          await new Promise((res) => setTimeout(res, 25));
        }
      })(),
      'the gateway to serve again',
    );
    assert.equal(live, 200);
  });

  it('logs a client that aborts its request body at info, not as a gateway error', async () => {
    const s = await open(gw.url);
    s.write(
      `POST /mcp/rec HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_KEY}\r\n` +
        'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 5000\r\n\r\n{"jsonrpc":',
    );
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    const line = await within(
      (async () => {
        for (;;) {
          const l = logLines(gw).find((x) => x.msg === 'request aborted by the client');
          if (l) return l;
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      'the abort to be logged',
    );
    assert.equal(line.level, 30);
    assert.equal(
      logLines(gw).some((x) => (x.level as number) >= 50),
      false,
      'no error-level line',
    );
  });
});
