import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { EVERYTHING_STDIO, rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

const MAX_BODY = 4096;

function initBody(protocolVersion: string, id: number | string = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
}

function req(id: number, method: string, params?: object): object {
  return params ? { jsonrpc: '2.0', id, method, params } : { jsonrpc: '2.0', id, method };
}

/** The shared polling helper, with this file's argument order. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => until(probe, what);

describe('Streamable HTTP edge, raw HTTP', () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  let url: URL;

  /** An initialized session at `version`, ready for requests. */
  async function session(version = '2025-11-25'): Promise<{ sid: string; headers: Record<string, string> }> {
    const r = await rawPost(url, initBody(version));
    assert.equal(r.status, 200, r.text);
    const sid = r.headers.get('mcp-session-id');
    assert.ok(sid);
    const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': version };
    assert.equal((await rawPost(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers)).status, 202);
    return { sid, headers };
  }

  function get(headers: Record<string, string>): Promise<Response> {
    return fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${TEST_KEY}`, ...headers } });
  }

  before(async () => {
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n  everything:${EVERYTHING_STDIO}\n` +
        `toolgate_settings:\n  max_body_bytes: ${MAX_BODY}\n  allowed_origins: ["https://app.example.com"]\n`,
    );
    url = gw.mcpUrl('/mcp/rec');
  });
  after(async () => {
    await gw?.close();
    await recorder?.stop();
  });

  it('refuses a body that is not JSON with 400 and -32700', async () => {
    const r = await rawPost(url, '{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
  });

  it('refuses JSON that is not JSON-RPC with 400 and -32600', async () => {
    const r = await rawPost(url, '{"hello": "world"}');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32600);
  });

  it('refuses a wrong content type with 415', async () => {
    const r = await rawPost(url, initBody('2025-11-25'), { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.ok(r.json.error);
  });

  it('refuses an oversized body with 413, declared or streamed', async () => {
    const big = JSON.stringify({ ...JSON.parse(initBody('2025-11-25')), pad: 'x'.repeat(MAX_BODY * 2) });
    const r = await rawPost(url, big);
    assert.equal(r.status, 413);
    assert.match(r.json.error.message, new RegExp(String(MAX_BODY)));
    // Without a content-length the limit must still hold while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TEST_KEY}` },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    await res.body?.cancel();
    // A body under the limit still works.
    assert.equal((await rawPost(url, initBody('2025-11-25'))).status, 200);
  });

  it('answers an unknown server with 404 naming the servers that exist', async () => {
    for (const path of ['/mcp/nope', '/nope/mcp']) {
      const r = await rawPost(gw.mcpUrl(path), initBody('2025-11-25'));
      assert.equal(r.status, 404, path);
      assert.match(r.json.error.message, /nope/);
      assert.match(r.json.error.message, /\brec\b/);
      assert.match(r.json.error.message, /\beverything\b/);
    }
  });

  it('selects the server of bare /mcp by x-litellm-mcp-server, then ?server=', async () => {
    const init = initBody('2025-11-25');
    const byHeader = await rawPost(gw.mcpUrl('/mcp'), init, { 'x-litellm-mcp-server': 'rec' });
    assert.equal(byHeader.json.result.serverInfo.name, 'header-recorder');
    const byQuery = await rawPost(gw.mcpUrl('/mcp?server=everything'), init);
    assert.match(byQuery.json.result.serverInfo.name, /everything/);
    const headerWins = await rawPost(gw.mcpUrl('/mcp?server=everything'), init, { 'x-litellm-mcp-server': 'rec' });
    assert.equal(headerWins.json.result.serverInfo.name, 'header-recorder');
    const unknown = await rawPost(gw.mcpUrl('/mcp'), init, { 'x-litellm-mcp-server': 'nope' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /\brec\b/);
  });

  it('bare /mcp with a single configured server is that server', async () => {
    const single = await startTestGateway(`mcp_servers:\n  rec:\n    url: ${recorder.url}\n`);
    try {
      const r = await rawPost(single.mcpUrl('/mcp'), initBody('2025-11-25'));
      assert.equal(r.json.result.serverInfo.name, 'header-recorder');
    } finally {
      await single.close();
    }
  });

  it('requires a session id for a GET stream (400) and refuses unknown ones (404)', async () => {
    const list = JSON.stringify(req(2, 'tools/list'));
    // A POST without a session is answered statelessly (test/e2e/curl-sessionless.test.ts); a GET stream needs one.
    const missing = await get({});
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /Mcp-Session-Id/i);
    const unknown = await rawPost(url, list, { 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
    const res = await get({ 'mcp-session-id': 'no-such-session' });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });

  it('ends a session on DELETE; it is 404 afterwards', async () => {
    const { headers } = await session();
    const list = JSON.stringify(req(2, 'tools/list'));
    assert.equal((await rawPost(url, list, headers)).status, 200);
    const del = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_KEY}`, ...headers } });
    assert.equal(del.status, 200);
    assert.equal((await rawPost(url, list, headers)).status, 404);
    const again = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_KEY}`, ...headers } });
    assert.equal(again.status, 404);
  });

  it('refuses an unsupported MCP-Protocol-Version with 400', async () => {
    const { headers } = await session();
    const r = await rawPost(url, JSON.stringify(req(2, 'tools/list')), { ...headers, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /1999-01-01/);
    const res = await get({ ...headers, 'mcp-protocol-version': 'bogus' });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });

  it('refuses a foreign Origin with 403; loopback and listed origins pass', async () => {
    const init = initBody('2025-11-25');
    assert.equal((await rawPost(url, init, { origin: 'https://evil.example' })).status, 403);
    assert.equal((await rawPost(url, init, { origin: 'http://localhost:6274' })).status, 200);
    assert.equal((await rawPost(url, init, { origin: 'http://127.0.0.1:3000' })).status, 200);
    assert.equal((await rawPost(url, init, { origin: 'https://app.example.com' })).status, 200);
  });

  it('negotiates the protocol version', async () => {
    for (const [asked, answered] of [
      ['2025-03-26', '2025-03-26'],
      ['2025-06-18', '2025-06-18'],
      ['2025-11-25', '2025-11-25'],
      ['2031-01-01', '2025-11-25'],
    ]) {
      const r = await rawPost(url, initBody(asked!));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.result.protocolVersion, answered, `asked ${asked}`);
      assert.equal(r.json.result.serverInfo.name, 'header-recorder', 'the upstream identity passes through');
    }
  });

  it('refuses batches at 2025-06-18 and 2025-11-25, answers them at 2025-03-26', async () => {
    const batch = JSON.stringify([req(10, 'tools/list'), req(11, 'ping')]);
    for (const v of ['2025-06-18', '2025-11-25']) {
      const { headers } = await session(v);
      const r = await rawPost(url, batch, headers);
      assert.equal(r.status, 400, v);
      assert.match(r.json.error.message, /batch/i);
    }
    const { headers } = await session('2025-03-26');
    const r = await rawPost(url, batch, { ...headers, accept: 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.json), r.text);
    assert.deepEqual(r.json.map((m: { id: number }) => m.id).sort(), [10, 11]);
    assert.equal(r.json.find((m: { id: number }) => m.id === 10).result.tools[0].name, 'echo');
    // A batch of notifications only is accepted with 202.
    const notes = JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]);
    assert.equal((await rawPost(url, notes, headers)).status, 202);
  });

  it('allows one GET stream per session (409 for a second)', async () => {
    const { headers } = await session();
    const first = await get(headers);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /text\/event-stream/);
    const second = await get(headers);
    assert.equal(second.status, 409);
    await second.body?.cancel();
    await first.body?.cancel();
    // Once the first is gone a new one may open.
    const third = await waitFor('the stream slot to free', async () => {
      const r = await get(headers);
      if (r.status === 200) return r;
      await r.body?.cancel();
      return undefined;
    });
    await third.body?.cancel();
  });

  it('answers JSON when nothing precedes the response, SSE when progress does', async () => {
    const everything = gw.mcpUrl('/mcp/everything');
    const init = await rawPost(everything, initBody('2025-11-25'));
    const headers = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await rawPost(everything, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const plain = await rawPost(everything, JSON.stringify(req(2, 'tools/call', { name: 'echo', arguments: { message: 'j' } })), headers);
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(plain.json.result.content[0].text, 'Echo: j');

    const long = req(3, 'tools/call', {
      name: 'trigger-long-running-operation',
      arguments: { duration: 0.2, steps: 2 },
      _meta: { progressToken: 'tok-1' },
    });
    const streamed = await rawPost(everything, JSON.stringify(long), headers);
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = streamed.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    const progress = events.filter((e) => e.method === 'notifications/progress');
    assert.deepEqual(
      progress.map((e) => [e.params.progressToken, e.params.progress]),
      [
        ['tok-1', 1],
        ['tok-1', 2],
      ],
    );
    assert.equal(events.at(-1).id, 3);
    assert.match(events.at(-1).result.content[0].text, /completed/);

    // A client that accepts only JSON still gets its answer, as JSON.
    const jsonOnly = await rawPost(everything, JSON.stringify({ ...long, id: 4 }), { ...headers, accept: 'application/json' });
    assert.match(jsonOnly.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(jsonOnly.json.id, 4);
  });

  it('reports liveliness and each upstream on readiness', async () => {
    const live = await fetch(new URL('/health/liveliness', gw.url));
    assert.equal(live.status, 200);
    const body = await waitFor('readiness', async () => {
      const r = await fetch(new URL('/health/readiness', gw.url));
      const j = (await r.json()) as { status: string; servers: Record<string, { state: string; transport: string }> };
      return r.status === 200 ? j : undefined;
    });
    assert.equal(body.servers.rec!.state, 'ready');
    assert.equal(body.servers.rec!.transport, 'http');
    assert.equal(body.servers.everything!.state, 'ready');
    assert.equal(body.servers.everything!.transport, 'stdio');
  });
});

describe('edge settings: idle TTL and a down upstream on readiness', () => {
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  before(async () => {
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(
      `mcp_servers:\n  rec:\n    url: ${recorder.url}\n  dead:\n    url: http://127.0.0.1:9/mcp\n    timeout: 2\n` +
        `toolgate_settings:\n  session_ttl_seconds: 0.3\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await recorder?.stop();
  });

  async function readiness(): Promise<{ status: number; body: any }> {
    const r = await fetch(new URL('/health/readiness', gw.url));
    return { status: r.status, body: await r.json() };
  }

  it('expires idle sessions after the configured TTL', async () => {
    const url = gw.mcpUrl('/mcp/rec');
    const r = await rawPost(url, initBody('2025-11-25'));
    const sid = r.headers.get('mcp-session-id')!;
    assert.ok((await readiness()).body.sessions >= 1);
    // Polling readiness does not touch the session, so only the TTL can remove it.
    await waitFor('the session to expire', async () => ((await readiness()).body.sessions === 0 ? true : undefined));
    const after = await rawPost(url, JSON.stringify(req(2, 'tools/list')), { 'mcp-session-id': sid });
    assert.equal(after.status, 404);
  });

  it('reports a down upstream by name, with its cause, as degraded', async () => {
    const { status, body } = await waitFor('readiness', async () => {
      const r = await readiness();
      return r.status === 200 ? r : undefined;
    });
    assert.equal(status, 200);
    assert.equal(body.status, 'degraded');
    assert.equal(body.servers.rec.state, 'ready');
    assert.equal(body.servers.dead.state, 'down');
    assert.match(body.servers.dead.error, /dead/);
  });
});
