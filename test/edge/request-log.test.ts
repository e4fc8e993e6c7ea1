import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, rawPost, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { connectEraClient } from '../helpers/era-clients.js';
import { api, uid } from '../admin/api.js';
import { createLogger } from '../../src/observe/log.js';
import { textLine } from '../../src/observe/log-text.js';
import { errorReason } from '../../src/edge/error-catalogue.js';
import { BudgetExceeded, LimitExceeded, PolicyDenied } from '../../src/mcp/errors.js';
import { ErrorCode, McpError } from '../../src/mcp/jsonrpc.js';
import { UpstreamError } from '../../src/upstream/transport.js';

const UPSTREAM_CANARY = 'ghp_tg-canary-reqlog-upstream-4b1e';
const WRONG_KEY_CANARY = 'sk-tg-canary-reqlog-wrong-key-8d2f';

type Line = Record<string, unknown>;

describe('request log lines say why', () => {
  let github: CatalogServer;
  let gw: TestGateway;
  const virtualKeys: string[] = [];
  before(async () => {
    github = await startCatalogServer({ name: 'github', tools: [tool('search_repos'), tool('delete_repo')] });
    gw = await startTestGateway(
      `mcp_servers:\n  github:\n    url: ${github.url}\n    auth_type: bearer_token\n    auth_value: ${UPSTREAM_CANARY}\n    disallowed_tools: [delete_repo]\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await github?.stop();
  });

  function requestLines(): Line[] {
    return gw.logs
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.msg === 'request');
  }

  /** Sends one request and returns its log line (written when the response finishes, so polled for). */
  async function lineOf(send: () => Promise<{ status: number }>, which: (l: Line) => boolean = () => true): Promise<Line> {
    const before = requestLines().length;
    await send();
    return until(() => requestLines().slice(before).find(which), 'the request log line');
  }

  const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { x: 'hi' } } });

  it('a missing key: reason missing_key, no key field', async () => {
    const l = await lineOf(() => rawPost(gw.mcpUrl('/mcp/github'), call('search_repos'), { authorization: '' }));
    assert.equal(l.status, 401);
    assert.equal(l.reason, 'missing_key');
    assert.equal(l.key, undefined);
  });

  it('a wrong key: reason invalid_key, and the key itself is nowhere in the log', async () => {
    const l = await lineOf(() => rawPost(gw.mcpUrl('/mcp/github'), call('search_repos'), { authorization: `Bearer ${WRONG_KEY_CANARY}` }));
    assert.equal(l.status, 401);
    assert.equal(l.reason, 'invalid_key');
  });

  it('an unknown server: reason unknown_server, the server asked for, and the key id', async () => {
    const l = await lineOf(() => rawPost(gw.mcpUrl('/mcp/nosuch'), call('search_repos')));
    assert.equal(l.status, 404);
    assert.equal(l.reason, 'unknown_server');
    assert.equal(l.server, 'nosuch');
    assert.match(String(l.key), /^master:[0-9a-f]+$/);
  });

  it('a policy denial (disallowed_tools): reason denied, with the method, tool and server', async () => {
    const l = await lineOf(() => rawPost(gw.mcpUrl('/mcp/github'), call('delete_repo')));
    assert.equal(l.reason, 'denied');
    assert.equal(l.method, 'tools/call');
    assert.equal(l.target, 'delete_repo');
    assert.equal(l.server, 'github');
  });

  it('a successful tools/call: tool, server, key and upstream_ms against ms; no reason', async () => {
    const l = await lineOf(async () => {
      const r = await rawPost(gw.mcpUrl('/mcp/github'), call('search_repos'));
      assert.equal(r.status, 200);
      assert.ok(r.json?.result ?? r.text.includes('github:search_repos'), r.text);
      return r;
    });
    assert.equal(l.status, 200);
    assert.equal(l.reason, undefined);
    assert.equal(l.method, 'tools/call');
    assert.equal(l.target, 'search_repos');
    assert.equal(l.server, 'github');
    assert.match(String(l.key), /^master:[0-9a-f]+$/);
    assert.equal(typeof l.upstream_ms, 'number');
    assert.equal(typeof l.ms, 'number');
    assert.ok((l.upstream_ms as number) <= (l.ms as number), `upstream_ms ${String(l.upstream_ms)} > ms ${String(l.ms)}`);
  });

  it('a session tools/call (official SDK client): tool, server and upstream_ms against ms', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/github'));
    try {
      const l = await lineOf(
        async () => {
          await client.callTool({ name: 'search_repos', arguments: { x: 'hi' } });
          return { status: 200 };
        },
        (line) => line.method === 'tools/call',
      );
      assert.equal(l.method, 'tools/call');
      assert.equal(l.target, 'search_repos');
      assert.equal(l.session, true);
      assert.ok((l.upstream_ms as number) <= (l.ms as number), `upstream_ms ${String(l.upstream_ms)} > ms ${String(l.ms)}`);
    } finally {
      await client.close();
    }
  });

  it('a 2026-07-28 tools/call (modern client): tool, upstream_ms against ms; a denied one says denied', async () => {
    const client = await connectEraClient('v2-pinned', gw.mcpUrl('/mcp/github'));
    try {
      const isCall = (line: Line) => line.method === 'tools/call';
      const l = await lineOf(async () => {
        await client.callTool('search_repos', { x: 'hi' });
        return { status: 200 };
      }, isCall);
      assert.equal(l.target, 'search_repos');
      assert.equal(l.reason, undefined);
      assert.ok((l.upstream_ms as number) <= (l.ms as number), `upstream_ms ${String(l.upstream_ms)} > ms ${String(l.ms)}`);
      const denied = await lineOf(async () => {
        await client.callTool('delete_repo', {}).catch(() => undefined);
        return { status: 200 };
      }, isCall);
      assert.equal(denied.target, 'delete_repo');
      assert.equal(denied.reason, 'denied');
    } finally {
      await client.close();
    }
  });

  it('legacy HTTP+SSE: each answer on the stream gets an "answered" line with the tool, upstream_ms against ms and the reason', async () => {
    const client = new Client({ name: 'reqlog-sse', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(gw.mcpUrl('/mcp/github/sse'), { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } }),
    );
    const answered = () =>
      gw.logs
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line)
        .filter((l) => l.msg === 'answered' && l.method === 'tools/call');
    try {
      const before = answered().length;
      await client.callTool({ name: 'search_repos', arguments: { x: 'hi' } });
      await client.callTool({ name: 'delete_repo', arguments: {} }).catch(() => undefined);
      const [ok, denied] = await until(
        () => (answered().length >= before + 2 ? answered().slice(before) : undefined),
        'two answered lines',
      );
      assert.equal(ok!.target, 'search_repos');
      assert.equal(ok!.server, 'github');
      assert.equal(ok!.outcome, 'ok');
      assert.equal(ok!.reason, undefined);
      assert.ok((ok!.upstream_ms as number) <= (ok!.ms as number), `upstream_ms ${String(ok!.upstream_ms)} > ms ${String(ok!.ms)}`);
      assert.equal(denied!.target, 'delete_repo');
      assert.equal(denied!.outcome, 'error');
      assert.equal(denied!.reason, 'denied');
    } finally {
      await client.close();
    }
  });

  it('a virtual key: the line names its alias (never the key); blocked, it says blocked_key', async () => {
    const alias = 'reqlog-' + uid();
    const k = await api(gw, 'POST', '/key/generate', { key_alias: alias });
    assert.equal(k.status, 200, k.text);
    virtualKeys.push(k.json.key);
    const used = await lineOf(() => rawPost(gw.mcpUrl('/mcp/github'), call('search_repos'), { authorization: `Bearer ${k.json.key}` }));
    assert.equal(used.key, alias);
    assert.equal((await api(gw, 'POST', '/key/block', { key: k.json.token })).status, 200);
    const blocked = await lineOf(() => rawPost(gw.mcpUrl('/mcp/github'), call('search_repos'), { authorization: `Bearer ${k.json.key}` }));
    assert.equal(blocked.status, 401);
    assert.equal(blocked.reason, 'blocked_key');
  });

  it('no key or upstream credential ever reaches the log', () => {
    const all = gw.logs.join('');
    assert.ok(all.includes('"msg":"request"'));
    for (const secret of [UPSTREAM_CANARY, WRONG_KEY_CANARY, TEST_KEY, ...virtualKeys]) assert.ok(!all.includes(secret), secret);
  });
});

describe('request log format: text on a terminal, JSON otherwise', () => {
  function capture(isTTY: boolean | undefined, tty?: boolean): string[] {
    const out: string[] = [];
    const destination = Object.assign(
      new Writable({
        write(chunk, _enc, cb) {
          out.push(String(chunk));
          cb();
        },
      }),
      tty === undefined ? {} : { isTTY: tty },
    );
    const log = createLogger({ level: 'info', destination, isTTY });
    log.info({ http: 'POST', path: '/mcp', status: 401, reason: 'missing_key', server: undefined, ms: 1.5 }, 'request');
    return out;
  }

  it('isTTY false: one JSON object per line', () => {
    const [line] = capture(false);
    const rec = JSON.parse(line!) as Line;
    assert.equal(rec.msg, 'request');
    assert.equal(rec.reason, 'missing_key');
    assert.equal('server' in rec, false);
  });

  it('isTTY true: readable text with the message and key=value fields, no JSON', () => {
    const [line] = capture(true);
    assert.match(line!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request http=POST path=\/mcp status=401 reason=missing_key ms=1\.5\n$/);
  });

  it("follows the destination's own isTTY when not told", () => {
    assert.match(capture(undefined, true)[0]!, / INFO {2}request /);
    assert.doesNotThrow(() => JSON.parse(capture(undefined, false)[0]!));
  });

  it('quotes values with spaces or quotes, and passes a non-JSON line through', () => {
    const t = textLine(JSON.stringify({ level: 40, time: 0, msg: 'm', message: 'a b', n: { x: 1 } }));
    assert.equal(t, '00:00:00.000 WARN  m message="a b" n="{\\"x\\":1}"\n');
    assert.equal(textLine('not json'), 'not json\n');
  });
});

describe("request log reasons for a route's errors", () => {
  // No limit is enforced end to end in this tree yet, so "limited" is checked on the mapping itself.
  it('denied, limited, over_budget, upstream_*, the JSON-RPC kind, internal', () => {
    assert.equal(errorReason(new PolicyDenied('no')), 'denied');
    assert.equal(errorReason(new LimitExceeded('slow down', 3)), 'limited');
    assert.equal(errorReason(new BudgetExceeded('spent')), 'over_budget');
    assert.equal(errorReason(new UpstreamError('timeout', 'late')), 'upstream_timeout');
    assert.equal(errorReason(new McpError(ErrorCode.MethodNotFound, 'x')), 'method_not_found');
    assert.equal(errorReason(new Error('boom')), 'internal');
  });
});
