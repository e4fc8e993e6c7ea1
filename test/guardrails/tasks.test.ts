import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import * as z from 'zod';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startGuardedUpstream, type GuardedUpstream } from '../fixtures/guarded-upstream.js';
import { connectClient, EVERYTHING_STDIO, rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { textOf } from './setup.js';

// A post_mcp_call guardrail checks a call's result; a task's result comes back later through
// tasks/result or tasks/get. A checked call must therefore not become a task (issue 14: a post
// block's content never reaches the client).
const GUARDRAILS = `
guardrails:
  - guardrail_name: no-classified
    litellm_params: { guardrail: toolgate_regex, mode: post_mcp_call, keywords: ["TOP SECRET"], default_on: true }
`;
const RAW = z.looseObject({});
const REFUSED = /^Guardrail violation - no-classified: results of this call are checked, so it cannot run as a task/;
const TASKS = 'io.modelcontextprotocol/tasks';

type Obj = Record<string, any>;

/** A 2026-07-28 stateless tools/call from a client declaring the tasks extension. */
async function modernCall(url: URL, name: string, args: Obj): Promise<Obj> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } },
  };
  const res = await rawPost(
    url,
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: meta } }),
    { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
  );
  const text = res.text;
  const json = text.startsWith('{')
    ? text
    : (
        text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .pop() ?? 'data: {}'
      ).slice(6);
  return JSON.parse(json) as Obj;
}

describe('guardrails: a checked tools/call cannot run as a task', () => {
  let up: GuardedUpstream;
  let fixture: RunningConformanceServer;
  let gw: TestGateway;
  const clients: Client[] = [];

  before(async () => {
    up = await startGuardedUpstream();
    fixture = await startConformanceServer();
    gw = await startTestGateway(
      `mcp_servers:\n  g: { url: "${up.url}" }\n  fixture:\n    url: ${fixture.url}\n    transport: http\n  everything:${EVERYTHING_STDIO}\n${GUARDRAILS}`,
    );
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await fixture?.stop();
    await up?.stop();
  });

  for (const [path, tool] of [
    ['/mcp/g', 'echo'],
    ['/mcp', 'g-echo'],
  ] as const) {
    it(`2025-11-25: a task-augmented call through ${path} is answered with a block and never reaches the upstream`, async () => {
      const c = await connectClient(gw.mcpUrl(path));
      clients.push(c);
      const before = up.count('echo');
      const r = (await c.request(
        { method: 'tools/call', params: { name: tool, arguments: { text: 'hi' }, task: {} } } as never,
        RAW,
      )) as Obj;
      assert.equal(r.isError, true);
      assert.match(textOf(r), REFUSED);
      assert.equal(r.task, undefined, 'no task handle');
      assert.equal(up.count('echo'), before, 'the upstream never saw the call');
      // Without `task` the call runs, its result checked.
      const inline = await c.callTool({ name: tool, arguments: { text: 'hi' } });
      assert.equal(textOf(inline), 'hi');
    });
  }

  it("2025-11-25: server-everything's task tool is refused as a task, so tasks/result has nothing to hand out", async () => {
    const c = await connectClient(gw.mcpUrl('/mcp/everything'));
    clients.push(c);
    const r = (await c.request(
      { method: 'tools/call', params: { name: 'simulate-research-query', arguments: { topic: 'x' }, task: { ttl: 60_000 } } } as never,
      RAW,
    )) as Obj;
    assert.match(textOf(r), REFUSED);
    const listed = (await c.request({ method: 'tasks/list', params: {} } as never, RAW)) as Obj;
    assert.deepEqual(listed.tasks, []);
  });

  for (const [path, tool] of [
    ['/mcp/fixture', 'slow_compute'],
    ['/mcp', 'fixture-slow_compute'],
  ] as const) {
    it(`2026-07-28: a call the server makes a task of (through ${path}) is answered with a block, no task handle`, async () => {
      const r = await modernCall(gw.mcpUrl(path), tool, { seconds: 1, label: 'gw' });
      assert.equal(r.result?.resultType === 'task', false, JSON.stringify(r));
      assert.equal(r.result?.taskId, undefined);
      assert.equal(r.result?.isError, true);
      assert.match(textOf(r.result), REFUSED);
    });
  }
});
