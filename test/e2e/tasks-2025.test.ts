import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import * as z from 'zod';
import { connectClient, EVERYTHING_STDIO, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

// 2025-11-25 experimental tasks (SEP-1686), relayed from server-everything's task tool.
const RAW = z.looseObject({});
const RELATED = 'io.modelcontextprotocol/related-task';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

type Obj = Record<string, any>;

async function call(client: Client, method: string, params: Obj): Promise<Obj> {
  return (await client.request({ method, params } as never, RAW)) as Obj;
}

function untilTerminal(client: Client, taskId: string): Promise<Obj> {
  return until(
    async () => {
      const t = await call(client, 'tasks/get', { taskId });
      return TERMINAL.has(t.status) ? t : undefined;
    },
    `task ${taskId} to end`,
    { ms: 30_000, every: 200 },
  );
}

async function errorCode(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

describe('2025-11-25 tasks through the gateway', () => {
  let gw: TestGateway;
  const clients: Client[] = [];
  before(async () => {
    gw = await startTestGateway(`mcp_servers:\n  everything:${EVERYTHING_STDIO}\n  other:${EVERYTHING_STDIO}\n`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
  });

  async function client(path: string): Promise<Client> {
    const c = await connectClient(gw.mcpUrl(path));
    clients.push(c);
    return c;
  }

  for (const [path, tool, server] of [
    ['/mcp', 'everything-simulate-research-query', 'everything'],
    ['/mcp/other', 'simulate-research-query', 'other'],
  ] as const) {
    it(`runs a task end to end through ${path} with the task id namespaced to its server`, async () => {
      const c = await client(path);
      const init = c.getServerCapabilities() as Obj;
      assert.ok(init.tasks?.requests?.tools?.call, 'task-augmented tools/call is advertised');
      const created = await call(c, 'tools/call', { name: tool, arguments: { topic: 'gateways' }, task: { ttl: 60_000 } });
      const id = created.task?.taskId as string;
      assert.ok(id.startsWith(`${server}:`), `task id ${id} names its server`);

      const done = await untilTerminal(c, id);
      assert.equal(done.status, 'completed');
      assert.equal(done.taskId, id, 'tasks/get answers with the same handle');

      const result = await call(c, 'tasks/result', { taskId: id });
      assert.match(textOf(result), /gateways/);
      assert.equal(result._meta?.[RELATED]?.taskId, id, 'related-task metadata names the handle, not the upstream id');

      const listed = await call(c, 'tasks/list', {});
      assert.ok(
        (listed.tasks as Obj[]).some((t) => t.taskId === id),
        'tasks/list shows the task under its handle',
      );
    });
  }

  it('maps the task id in a related elicitation request to the handle', async () => {
    const c = await connectClient(gw.mcpUrl('/mcp'), { capabilities: { elicitation: {} } });
    clients.push(c);
    let related: unknown;
    c.setRequestHandler('elicitation/create', async (req) => {
      related = (req.params._meta as Obj | undefined)?.[RELATED]?.taskId;
      return { action: 'accept', content: { interpretation: 'technical' } };
    });
    const created = await call(c, 'tools/call', {
      name: 'other-simulate-research-query',
      arguments: { topic: 'mcp', ambiguous: true },
      task: { ttl: 60_000 },
    });
    const id = created.task.taskId as string;
    // tasks/result blocks until the task ends and carries its queued elicitation meanwhile.
    const result = await call(c, 'tasks/result', { taskId: id });
    assert.equal(related, id);
    assert.match(textOf(result), /technical/i);
  });

  it('cancels a task by its handle', async () => {
    const c = await client('/mcp');
    const created = await call(c, 'tools/call', {
      name: 'other-simulate-research-query',
      arguments: { topic: 'cancel me' },
      task: { ttl: 60_000 },
    });
    const id = created.task.taskId as string;
    const cancelled = await call(c, 'tasks/cancel', { taskId: id });
    assert.equal(cancelled.taskId, id);
    assert.equal(cancelled.status, 'cancelled');
    // The aggregate's tasks/list walks the servers one after another behind its own cursor.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(c, 'tasks/list', cursor ? { cursor } : {});
      seen.push(...(page.tasks as Obj[]).map((t) => t.taskId as string));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    assert.ok(pages >= 2, 'one page per server at least');
    assert.ok(seen.includes(id), "the second server's task is on a later page");
    assert.equal(await errorCode(call(c, 'tasks/list', { cursor: 'forged' })), -32602);
  });

  it('refuses task ids it did not hand out, and a handle sent to another server', async () => {
    const c = await client('/mcp');
    const created = await call(c, 'tools/call', {
      name: 'everything-simulate-research-query',
      arguments: { topic: 'x' },
      task: { ttl: 60_000 },
    });
    const id = created.task.taskId as string;
    const upstreamId = id.slice(id.indexOf(':', id.indexOf(':') + 1) + 1);
    assert.equal(await errorCode(call(c, 'tasks/get', { taskId: upstreamId })), -32602, 'a bare upstream id is refused');
    const forged = id.replace(/^everything:[^:]+:/, 'everything:AAAAAAAAAAAAAAAA:');
    assert.equal(await errorCode(call(c, 'tasks/get', { taskId: forged })), -32602, 'a handle with a wrong MAC is refused');
    const moved = id.replace(/^everything:/, 'other:');
    assert.equal(await errorCode(call(c, 'tasks/get', { taskId: moved })), -32602, 'a handle re-pointed at another server is refused');
    const single = await client('/mcp/other');
    assert.equal(await errorCode(call(single, 'tasks/get', { taskId: id })), -32602, "everything's task is not other's");
  });

  it('shows each key only its own tasks in tasks/list', async () => {
    // A task created directly on the shared upstream session by nobody we know (another gateway key
    // would look the same): it exists upstream but was never handed to this key.
    const c = await client('/mcp/everything');
    const mine = await call(c, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'mine' }, task: { ttl: 60_000 } });
    const upstream = gw.upstreams.get('everything')!;
    const session = await upstream.sharedSession({});
    const foreign = await session.request('tools/call', {
      name: 'simulate-research-query',
      arguments: { topic: 'foreign' },
      task: { ttl: 60_000 },
    });
    const foreignId = (foreign.task as Obj).taskId as string;
    const upstreamList = await session.request('tasks/list', {});
    assert.ok(
      (upstreamList.tasks as Obj[]).some((t) => t.taskId === foreignId),
      'the upstream lists the foreign task',
    );
    const listed = await call(c, 'tasks/list', {});
    const ids = (listed.tasks as Obj[]).map((t) => t.taskId as string);
    assert.ok(ids.includes(mine.task.taskId), 'own task listed');
    assert.ok(!ids.some((t) => t.endsWith(`:${foreignId}`)), 'foreign task hidden');
  });

  it('rejects tasks/get without a taskId as invalid params', async () => {
    const c = await client('/mcp');
    assert.equal(await errorCode(call(c, 'tasks/get', {})), -32602);
  });
});
