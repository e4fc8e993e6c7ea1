/** The conformance fixture's tasks extension (SEP-2663), spoken on the raw 2026-07-28 wire. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { until } from '../helpers/within.js';

const TASKS = 'io.modelcontextprotocol/tasks';
const WITH_TASKS = { elicitation: {}, extensions: { [TASKS]: {} } };

interface Reply {
  status: number;
  result?: Record<string, any>;
  error?: { code: number; message: string; data?: any };
}

let nextId = 1;
async function rpc(url: string, method: string, params: Record<string, unknown>, capabilities: object = WITH_TASKS): Promise<Reply> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  const name = params.name ?? params.taskId;
  if (typeof name === 'string') headers['mcp-name'] = name;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'fixture-tasks-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta } }),
  });
  const body = (await res.json()) as { result?: Record<string, any>; error?: Reply['error'] };
  return { status: res.status, result: body.result, error: body.error };
}

/** Polls tasks/get until the task reaches `status` (or any terminal one). */
function waitFor(url: string, taskId: string, status: string): Promise<Record<string, any>> {
  return until(
    async () => {
      const { result } = await rpc(url, 'tasks/get', { taskId });
      assert.ok(result, `tasks/get ${taskId} answered without a result`);
      return result.status === status || ['completed', 'failed', 'cancelled'].includes(result.status) ? result : undefined;
    },
    `task ${taskId} to reach ${status}`,
    { ms: 30_000, every: 50 },
  );
}

describe('conformance fixture: tasks extension', () => {
  let fixture: RunningConformanceServer;
  before(async () => {
    fixture = await startConformanceServer();
  });
  after(async () => {
    await fixture.stop();
  });

  it('advertises the extension in server/discover', async () => {
    const { result } = await rpc(fixture.url, 'server/discover', {});
    assert.deepEqual(result?.capabilities?.extensions?.[TASKS], {});
    assert.equal(result?.capabilities?.tasks, undefined);
  });

  it('answers a declaring client with a flat CreateTaskResult and inlines the result on tasks/get', async () => {
    const created = await rpc(fixture.url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 0, label: 'unit' } });
    assert.equal(created.result?.resultType, 'task');
    assert.equal(typeof created.result?.taskId, 'string');
    assert.equal(Number.isInteger(created.result?.ttlMs), true);
    assert.equal('content' in (created.result ?? {}), false);
    const done = await waitFor(fixture.url, created.result!.taskId, 'completed');
    assert.equal(done.status, 'completed');
    assert.equal(done.resultType, 'complete');
    assert.match(done.result.content[0].text, /slow_compute \(unit\) finished/);
  });

  it('runs task tools synchronously for a client without the extension, and refuses required ones with -32021', async () => {
    const sync = await rpc(fixture.url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 0 } }, {});
    assert.equal(sync.result?.resultType, 'complete');
    assert.equal(sync.result?.taskId, undefined);
    const required = await rpc(fixture.url, 'tools/call', { name: 'failing_job', arguments: {} }, {});
    assert.equal(required.status, 400);
    assert.equal(required.error?.code, -32021);
    assert.deepEqual(required.error?.data?.requiredCapabilities?.extensions?.[TASKS], {});
    const get = await rpc(fixture.url, 'tasks/get', { taskId: 'whatever' }, {});
    assert.equal(get.error?.code, -32021);
  });

  it('parks a task in input_required until tasks/update has answered every request', async () => {
    const created = await rpc(fixture.url, 'tools/call', { name: 'multi_input', arguments: {} });
    const taskId = created.result!.taskId as string;
    const parked = await waitFor(fixture.url, taskId, 'input_required');
    assert.deepEqual(Object.keys(parked.inputRequests).sort(), ['confirm', 'name']);
    const ack = await rpc(fixture.url, 'tasks/update', {
      taskId,
      inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } },
    });
    assert.equal(ack.result?.resultType, 'complete');
    assert.equal(ack.result?.taskId, undefined);
    const partial = await rpc(fixture.url, 'tasks/get', { taskId });
    assert.equal(partial.result?.status, 'input_required');
    assert.deepEqual(Object.keys(partial.result?.inputRequests ?? {}), ['confirm']);
    await rpc(fixture.url, 'tasks/update', { taskId, inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } });
    const done = await waitFor(fixture.url, taskId, 'completed');
    assert.equal(done.result.content[0].text, 'multi_input: name="Ada", confirm=true');
  });

  it('settles a cancelled task as cancelled and answers unknown task ids with -32602', async () => {
    const created = await rpc(fixture.url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } });
    const taskId = created.result!.taskId as string;
    const ack = await rpc(fixture.url, 'tasks/cancel', { taskId });
    assert.equal(ack.result?.resultType, 'complete');
    assert.equal((await rpc(fixture.url, 'tasks/get', { taskId })).result?.status, 'cancelled');
    assert.equal((await rpc(fixture.url, 'tasks/get', { taskId: 'no-such-task' })).error?.code, -32602);
  });
});
