import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { EVERYTHING_STDIO, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

// The 2026-07-28 tasks extension (SEP-2663) relayed to the conformance fixture, which implements it
// and checks that Mcp-Name equals params.taskId: a handle leaking upstream would be refused there.
const TASKS = 'io.modelcontextprotocol/tasks';
const WITH_TASKS = { elicitation: {}, extensions: { [TASKS]: {} } };

type Obj = Record<string, any>;
interface Reply {
  status: number;
  result?: Obj;
  error?: { code: number; message: string; data?: any };
}

let nextId = 1;
async function rpc(url: URL, method: string, params: Obj, capabilities: Obj = WITH_TASKS, headerName?: string): Promise<Reply> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${TEST_KEY}`,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  const name = headerName ?? params.name ?? params.taskId;
  if (typeof name === 'string') headers['mcp-name'] = name;
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': capabilities };
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta } }),
  });
  const text = await res.text();
  // SSE or JSON: the last data line holds the response.
  const json = text.startsWith('{')
    ? text
    : (
        text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .pop() ?? 'data: {}'
      ).slice(6);
  const body = JSON.parse(json) as { result?: Obj; error?: Reply['error'] };
  return { status: res.status, result: body.result, error: body.error };
}

function poll(url: URL, taskId: string, done: (t: Obj) => boolean): Promise<Obj> {
  return until(
    async () => {
      const r = await rpc(url, 'tasks/get', { taskId });
      assert.ok(r.result, `tasks/get failed: ${JSON.stringify(r.error)}`);
      return done(r.result) || ['completed', 'failed', 'cancelled'].includes(r.result.status) ? r.result : undefined;
    },
    `task ${taskId}`,
    { ms: 30_000, every: 100 },
  );
}

describe('2026-07-28 tasks through the gateway', () => {
  let fixture: RunningConformanceServer;
  let gw: TestGateway;
  before(async () => {
    fixture = await startConformanceServer();
    gw = await startTestGateway(
      `mcp_servers:\n  fixture:\n    url: ${fixture.url}\n    transport: http\n  everything:${EVERYTHING_STDIO}\n`,
    );
  });
  after(async () => {
    await gw?.close();
    await fixture?.stop();
  });

  for (const [path, tool] of [
    ['/mcp/fixture', 'slow_compute'],
    ['/mcp', 'fixture-slow_compute'],
  ] as const) {
    it(`creates, polls and completes a task through ${path}, the task id a handle naming the server`, async () => {
      const url = gw.mcpUrl(path);
      const created = await rpc(url, 'tools/call', { name: tool, arguments: { seconds: 1, label: 'gw' } });
      assert.equal(created.result?.resultType, 'task', JSON.stringify(created));
      const id = created.result!.taskId as string;
      assert.match(id, /^fixture:[A-Za-z0-9_-]{16}:/);
      const done = await poll(url, id, () => false);
      assert.equal(done.status, 'completed');
      assert.equal(done.taskId, id);
      assert.equal(done.resultType, 'complete');
      assert.ok(Array.isArray(done.result?.content) && done.result.content.length > 0, 'result inlined');
    });
  }

  it('relays a task waiting for input: inputRequests on tasks/get, answers with tasks/update', async () => {
    const url = gw.mcpUrl('/mcp');
    const created = await rpc(url, 'tools/call', { name: 'fixture-confirm_delete', arguments: { filename: 'a.txt' } });
    const id = created.result!.taskId as string;
    const waiting = await poll(url, id, (t) => t.status === 'input_required');
    assert.equal(waiting.status, 'input_required');
    const keys = Object.keys(waiting.inputRequests ?? {});
    assert.ok(keys.length > 0, 'input requests relayed');
    const ack = await rpc(url, 'tasks/update', {
      taskId: id,
      inputResponses: { [keys[0]!]: { action: 'accept', content: { confirm: true } } },
    });
    assert.deepEqual(
      Object.keys(ack.result ?? {}).filter((k) => k !== '_meta'),
      ['resultType'],
    );
    const done = await poll(url, id, () => false);
    assert.equal(done.status, 'completed');
  });

  it('cancels by handle with an empty acknowledgement', async () => {
    const url = gw.mcpUrl('/mcp/fixture');
    const created = await rpc(url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 60, label: 'cancel' } });
    const id = created.result!.taskId as string;
    const ack = await rpc(url, 'tasks/cancel', { taskId: id });
    assert.equal(ack.result?.resultType, 'complete');
    assert.equal(ack.result?.taskId, undefined);
    const after = await poll(url, id, () => false);
    assert.equal(after.status, 'cancelled');
  });

  it('refuses tasks/* without the extension (-32021), a mismatched Mcp-Name (-32020) and an id it never issued (-32602)', async () => {
    const url = gw.mcpUrl('/mcp/fixture');
    const created = await rpc(url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 0, label: 'refusals' } });
    const id = (created.result?.taskId as string | undefined) ?? 'fixture:AAAAAAAAAAAAAAAA:x';
    const noExt = await rpc(url, 'tasks/get', { taskId: id }, {});
    assert.equal(noExt.status, 400);
    assert.equal(noExt.error?.code, -32021);
    assert.deepEqual(noExt.error?.data?.requiredCapabilities, { extensions: { [TASKS]: {} } });
    const mismatch = await rpc(url, 'tasks/get', { taskId: id }, WITH_TASKS, 'another-task');
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.error?.code, -32020);
    const bare = await rpc(url, 'tasks/get', { taskId: id.split(':').slice(2).join(':') });
    assert.equal(bare.error?.code, -32602);
    const agg = await rpc(gw.mcpUrl('/mcp'), 'tasks/get', { taskId: 'nowhere:AAAAAAAAAAAAAAAA:x' });
    assert.equal(agg.error?.code, -32602);
  });

  it('relays a required-task tool refusal to a client without the extension as -32021 / 400', async () => {
    const r = await rpc(gw.mcpUrl('/mcp'), 'tools/call', { name: 'fixture-failing_job', arguments: {} }, {});
    assert.equal(r.status, 400);
    assert.equal(r.error?.code, -32021);
  });

  it('answers tasks/result and tasks/list, gone from the extension, with 404 / -32601', async () => {
    for (const method of ['tasks/result', 'tasks/list']) {
      const r = await rpc(gw.mcpUrl('/mcp'), method, method === 'tasks/list' ? {} : { taskId: 'fixture:AAAAAAAAAAAAAAAA:x' });
      assert.equal(r.status, 404, method);
      assert.equal(r.error?.code, -32601, method);
    }
  });

  it('advertises the extension in the aggregate discover, never the 2025 tasks slot', async () => {
    const r = await rpc(gw.mcpUrl('/mcp'), 'server/discover', {});
    assert.deepEqual(r.result?.capabilities?.extensions, { [TASKS]: {} });
    assert.equal(r.result?.capabilities?.tasks, undefined, "server-everything's 2025 tasks are not offered to 2026 clients");
  });

  it('refuses task status subscriptions from a client without the extension', async () => {
    const refused = await rpc(
      gw.mcpUrl('/mcp'),
      'subscriptions/listen',
      { notifications: { taskIds: ['fixture:AAAAAAAAAAAAAAAA:x'] } },
      {},
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.error?.code, -32021);
  });
});
