import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { everythingStdioChildren } from '../fixtures/children.js';
import { startHeaderRecorder, type HeaderRecorder, type RecordedRequest } from '../fixtures/header-recorder.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

const PARENT_SECRET = 'TG_PARENT_ONLY_SECRET';

function initBody(capabilities: object = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw', version: '1' } },
  });
}

function bodyOf(r: RecordedRequest): { method?: string; params?: any } {
  try {
    return JSON.parse(r.body);
  } catch {
    return {};
  }
}

/** Reads SSE `data:` messages from a response until `want` matches one. */
async function readUntil(res: Response, want: (msg: any) => boolean): Promise<any> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before the expected message: ${buf}`);
    buf += decoder.decode(value, { stream: true });
    for (const line of buf.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const msg = JSON.parse(line.slice(6));
      if (want(msg)) {
        await reader.cancel();
        return msg;
      }
    }
  }
}

describe('upstream sessions, stdio supervision, relays and request logs', { timeout: 60_000 }, () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  let gwClosed = false;
  let everything: Client;

  before(async () => {
    process.env[PARENT_SECRET] = 'must-not-reach-the-child';
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n  everything:${EVERYTHING_STDIO}\n    env:\n      TG_CONFIGURED: configured-value\n`,
    );
    everything = await connectClient(gw.mcpUrl('/mcp/everything'));
  });
  after(async () => {
    delete process.env[PARENT_SECRET];
    await everything?.close().catch(() => {});
    if (!gwClosed) await gw?.close();
    await recorder?.stop();
  });

  it('a tools/call is one upstream round trip on a kept session: no reconnect, no re-listing', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/rec'));
    try {
      await client.callTool({ name: 'echo', arguments: { message: 'warm' } });
      const start = recorder.requests.length;
      for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo', arguments: { message: `n${i}` } });
      const posts = recorder.requests.slice(start).filter((r) => r.method === 'POST');
      assert.deepEqual(
        posts.map((r) => bodyOf(r).method),
        ['tools/call', 'tools/call', 'tools/call'],
      );
      assert.equal(new Set(posts.map((r) => r.headers['mcp-session-id'])).size, 1);
    } finally {
      await client.close();
    }
  });

  it("a client's own upstream session mirrors its capabilities and protocol version", async () => {
    const start = recorder.requests.length;
    const caps = { sampling: {}, roots: { listChanged: true }, experimental: { 'x-toolgate-test': { on: true } } };
    const init = JSON.parse(initBody(caps));
    init.params.protocolVersion = '2025-06-18';
    const r = await rawPost(gw.mcpUrl('/mcp/rec'), JSON.stringify(init));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result.protocolVersion, '2025-06-18');
    const inits = recorder.requests.slice(start).filter((q) => bodyOf(q).method === 'initialize');
    assert.equal(inits.length, 1);
    assert.deepEqual(bodyOf(inits[0]!).params.capabilities, caps);
    assert.equal(bodyOf(inits[0]!).params.protocolVersion, '2025-06-18');
  });

  it('relays upstream notifications on the GET stream, unknown fields intact', async () => {
    const r = await rawPost(gw.mcpUrl('/mcp/rec'), initBody({ sampling: {} }));
    const headers = { 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await rawPost(gw.mcpUrl('/mcp/rec'), JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    // The dedicated upstream session (and its GET stream) opens on first use.
    await rawPost(gw.mcpUrl('/mcp/rec'), JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), headers);
    const stream = await fetch(gw.mcpUrl('/mcp/rec'), {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${TEST_KEY}`, ...headers },
    });
    assert.equal(stream.status, 200);
    const note = {
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: 'demo://x', _meta: { 'x-future': [1, { deep: true }] }, futureField: 'kept' },
    };
    // The upstream GET stream of this client's session opens asynchronously: repeat until one copy arrives.
    const pusher = setInterval(() => recorder.push(note), 50);
    try {
      const got = await readUntil(stream, (m) => m.method === note.method);
      assert.deepEqual(got, note);
    } finally {
      clearInterval(pusher);
    }
  });

  it('a stdio child gets only its configured env plus PATH/HOME', async () => {
    const text = textOf(await everything.callTool({ name: 'get-env', arguments: {} }));
    const env = JSON.parse(text) as Record<string, string>;
    assert.equal(env.TG_CONFIGURED, 'configured-value');
    assert.equal(env[PARENT_SECRET], undefined);
    assert.ok(env.PATH);
  });

  it('logs the child stderr with the server name, and one line per request with server, method, status, duration', async () => {
    const lines = gw.logs
      .flatMap((chunk) => chunk.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(
      lines.some((l) => l.server === 'everything' && l.stream === 'stderr' && /STDIO/.test(l.msg)),
      'stderr line',
    );
    const call = lines.find((l) => l.msg === 'request' && l.server === 'everything' && l.method === 'tools/call');
    assert.ok(call, 'request line');
    assert.equal(call.status, 200);
    assert.equal(typeof call.ms, 'number');
    assert.ok(!gw.logs.join('').includes(TEST_KEY));
  });

  it('stops the stdio children on shutdown', async () => {
    assert.ok(everythingStdioChildren().length > 0);
    await everything.close();
    await gw.close();
    gwClosed = true;
    await until(() => everythingStdioChildren().length === 0, 'the stdio children to exit').catch(() => {});
    assert.deepEqual(everythingStdioChildren(), []);
  });
});
