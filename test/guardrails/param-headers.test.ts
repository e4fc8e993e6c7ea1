import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { listenLocal } from '../fixtures/listen.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { textOf } from './setup.js';

// Mcp-Param-* headers (2026-07-28, SEP-2243) mirror tool arguments: a client's copy must not carry
// past the gateway what a pre_mcp_call mask took out of the arguments.
const GUARDRAILS = `
guardrails:
  - guardrail_name: no-mail-in
    litellm_params: { guardrail: toolgate_pii, mode: pre_mcp_call, action: mask, detectors: [email], default_on: true }
`;
const MAIL = 'param.canary@example.com';

type Obj = Record<string, any>;

/** A relay in front of the conformance fixture that records the headers of every request it forwards. */
async function recordingFront(target: string) {
  const seen: IncomingHttpHeaders[] = [];
  const { server, port } = await listenLocal(async (req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const up = await fetch(target, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    res.writeHead(up.status, Object.fromEntries(up.headers));
    if (up.body) Readable.fromWeb(up.body as never).pipe(res);
    else res.end();
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function modernCall(url: URL, args: Obj, headers: Record<string, string>): Promise<Obj> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'test_header_param', arguments: args, _meta: meta } };
  const res = await rawPost(url, JSON.stringify(body), {
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'test_header_param',
    ...headers,
  });
  const text = res.text;
  return JSON.parse(
    text.startsWith('{')
      ? text
      : text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .pop()!
          .slice(6),
  ) as Obj;
}

describe('guardrails: Mcp-Param headers follow the arguments the policy let through', () => {
  let fixture: RunningConformanceServer;
  let front: Awaited<ReturnType<typeof recordingFront>>;
  let gw: TestGateway;

  before(async () => {
    fixture = await startConformanceServer();
    front = await recordingFront(fixture.url);
    gw = await startTestGateway(`mcp_servers:\n  fixture:\n    url: ${front.url}\n    transport: http\n${GUARDRAILS}`);
  });
  after(async () => {
    await gw?.close();
    await front?.stop();
    await fixture?.stop();
  });

  it('a masked argument: its client-sent Mcp-Param header never reaches the upstream', async () => {
    const from = front.seen.length;
    const r = await modernCall(gw.mcpUrl('/mcp/fixture'), { region: MAIL }, { 'mcp-param-region': MAIL, 'mcp-param-other': MAIL });
    assert.ok(!JSON.stringify(r).includes(MAIL), JSON.stringify(r));
    const sent = front.seen.slice(from).filter((h) => h['mcp-method'] === 'tools/call');
    assert.ok(sent.length > 0, 'the call reached the upstream');
    for (const h of sent) assert.ok(!JSON.stringify(h).includes(MAIL), `a header carried the masked value: ${JSON.stringify(h)}`);
  });

  it('an argument the policy left alone: its Mcp-Param header goes on (also base64-encoded)', async () => {
    for (const value of ['eu-west-1', '=?base64?' + Buffer.from('eu-west-1').toString('base64') + '?=']) {
      const from = front.seen.length;
      const r = await modernCall(gw.mcpUrl('/mcp'), { region: 'eu-west-1' }, { 'mcp-param-region': value });
      assert.equal(textOf(r.result), 'region=eu-west-1', JSON.stringify(r));
      const sent = front.seen.slice(from).filter((h) => h['mcp-method'] === 'tools/call');
      assert.equal(sent.at(-1)?.['mcp-param-region'], value);
    }
  });
});
