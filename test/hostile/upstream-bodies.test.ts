import assert from 'node:assert/strict';
import type { Server, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../fixtures/listen.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../upstream/poll.js';

const HUGE = 50 * 1024 * 1024;
const LIMIT = 1024 * 1024;

/** Writes `total` bytes of `fill` with backpressure; resolves with how many the socket took before it closed. */
function stream(res: ServerResponse, total: number, fill: string): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let sent = 0;
  return new Promise((resolve) => {
    res.on('close', () => resolve(sent));
    const pump = (): void => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
}

/** A Streamable HTTP server whose tools answer with a huge error page or a too large result. */
async function startHugeUpstream(): Promise<{ server: Server; url: string; errorBytesSent: Promise<number>[] }> {
  const errorBytesSent: Promise<number>[] = [];
  const { server, port } = await listenLocal(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const msg = JSON.parse(body);
    const json = (result: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    };
    if (msg.method === 'initialize') {
      return json(
        { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'huge', version: '1' } },
        { 'mcp-session-id': 's1' },
      );
    }
    if (!('id' in msg)) return void res.writeHead(202).end();
    if (msg.method === 'ping') return json({});
    if (msg.params?.name === 'error-page') {
      res.writeHead(500, { 'content-type': 'text/html' });
      errorBytesSent.push(stream(res, HUGE, 'e'));
      return;
    }
    if (msg.params?.name === 'big-result') return json({ content: [{ type: 'text', text: 'x'.repeat(2 * LIMIT) }] });
    return json({ content: [{ type: 'text', text: 'small' }] });
  });
  return { server, url: `http://127.0.0.1:${port}/mcp`, errorBytesSent };
}

// Issue 11 item 6: a 50 MB error page was buffered whole; a 50 MB reply was relayed whatever its size.
describe('large upstream bodies', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let huge: Awaited<ReturnType<typeof startHugeUpstream>>;
  before(async () => {
    huge = await startHugeUpstream();
    gw = await startTestGateway(
      `toolgate_settings:\n  max_upstream_response_bytes: ${LIMIT}\nmcp_servers:\n  huge:\n    url: ${huge.url}\n`,
    );
  });
  after(async () => {
    await gw?.close();
    huge?.server.closeAllConnections();
    await new Promise<void>((r) => huge?.server.close(() => r()));
  });

  const call = (id: number, name: string) =>
    rawPost(gw.mcpUrl('/mcp/huge'), JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }), {
      'mcp-session-id': session,
    });
  let session = '';

  it('reads only the start of an error page, and refuses a result over max_upstream_response_bytes', async () => {
    const init = await rawPost(
      gw.mcpUrl('/mcp/huge'),
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } },
      }),
    );
    session = init.headers.get('mcp-session-id')!;
    const page = await call(2, 'error-page');
    assert.match(page.json.error.message, /huge.*HTTP 500/);
    assert.ok(page.json.error.message.length < 400, 'the message quotes only the start of the page');
    await until('the error page connection to be dropped', () => huge.errorBytesSent.length === 1);
    const sent = await huge.errorBytesSent[0];
    assert.ok(sent < HUGE / 2, `the gateway stopped reading early (${sent} of ${HUGE} bytes were taken by the socket)`);
    const big = await call(3, 'big-result');
    assert.match(big.json.error.message, /"huge".*1048576 bytes.*max_upstream_response_bytes/);
    const small = await call(4, 'small');
    assert.equal(small.json.result.content[0].text, 'small', 'the server keeps working');
    assert.equal(gw.upstreams.get('huge')!.health().state, 'ready', 'one oversized answer is not a down server');
  });
});
