import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { everythingStdioChildren } from '../fixtures/children.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../fixtures/scripted-upstream.js';
import { connectClient, EVERYTHING_STDIO, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/** Retries `attempt` until it succeeds (the shared polling helper retries a probe that throws). */
async function eventually<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  return (await until(async () => ({ value: await attempt() }), what, { every: 50 })).value;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

describe('upstream failures', { timeout: 60_000 }, () => {
  let slow: ScriptedUpstream;
  let doomed: ScriptedUpstream;
  let gw: TestGateway;
  let everything: Client;
  let sampler: Client;
  let scripted: Client;

  before(async () => {
    slow = await startScriptedUpstream();
    doomed = await startScriptedUpstream();
    gw = await startTestGateway(
      `mcp_servers:\n  everything:${EVERYTHING_STDIO}\n    timeout: 30\n` +
        `  scripted:\n    url: ${slow.url}\n    timeout: 1\n` +
        `  doomed:\n    url: ${doomed.url}\n    timeout: 3\n`,
    );
    everything = await connectClient(gw.mcpUrl('/mcp/everything'));
    // A client with its own upstream session (it declares sampling): it must recover too.
    sampler = await connectClient(gw.mcpUrl('/mcp/everything'), { capabilities: { sampling: {} } });
    scripted = await connectClient(gw.mcpUrl('/mcp/scripted'));
  });
  after(async () => {
    for (const c of [everything, sampler, scripted]) await c?.close().catch(() => {});
    await gw?.close();
    await slow?.stop();
    await doomed?.stop();
  });

  it('a killed stdio child fails the in-flight call naming the server, and is restarted', async () => {
    assert.equal(textOf(await everything.callTool({ name: 'echo', arguments: { message: 'before' } })), 'Echo: before');
    assert.equal(textOf(await sampler.callTool({ name: 'echo', arguments: { message: 'before' } })), 'Echo: before');
    const before = everythingStdioChildren();
    assert.ok(before.length >= 2, `expected the shared and the dedicated child, saw ${before}`);
    const inFlight = everything.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 } });
    const inFlightDedicated = sampler.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 } });
    await new Promise((r) => setTimeout(r, 200));
    // Both calls fail at about the same moment: capture each outcome now, so neither rejection goes
    // unhandled while the other is being checked.
    const outcomes = [inFlight, inFlightDedicated].map((call) =>
      call.then(
        () => undefined,
        (err: unknown) => err,
      ),
    );
    for (const pid of before) process.kill(pid, 'SIGKILL');
    for (const err of await Promise.all(outcomes)) {
      assert.ok(err !== undefined, 'the in-flight call failed');
      assert.match(errorMessage(err), /everything/);
      assert.match(errorMessage(err), /killed|exited|closed/i);
    }
    // The gateway keeps serving the other servers meanwhile.
    assert.equal(textOf(await scripted.callTool({ name: 'echo', arguments: { message: 'other' } })), 'Echo: other');
    // Later calls succeed on a new child, for the shared and the dedicated session alike.
    const r = await eventually('shared session back', () => everything.callTool({ name: 'echo', arguments: { message: 'after' } }));
    assert.equal(textOf(r), 'Echo: after');
    const d = await eventually('dedicated session back', () => sampler.callTool({ name: 'echo', arguments: { message: 'after' } }));
    assert.equal(textOf(d), 'Echo: after');
    const now = everythingStdioChildren();
    assert.ok(now.length >= 1 && now.every((pid) => !before.includes(pid)), `new children ${now}, old ${before}`);
  });

  it('a slow upstream past its timeout gives -32001 naming the server, then keeps working', async () => {
    await assert.rejects(scripted.callTool({ name: 'sleep', arguments: { ms: 5_000 } }), (err: unknown) => {
      assert.equal((err as { code?: number }).code, -32001);
      assert.match(errorMessage(err), /scripted/);
      return true;
    });
    assert.equal(textOf(await scripted.callTool({ name: 'echo', arguments: { message: 'fast' } })), 'Echo: fast');
  });

  it('an HTTP upstream that forgets its sessions (404) is reconnected transparently', async () => {
    const initializes = slow.initializes();
    slow.forgetSessions();
    assert.equal(textOf(await scripted.callTool({ name: 'echo', arguments: { message: 'again' } })), 'Echo: again');
    assert.equal(slow.initializes(), initializes + 1);
  });

  it('a dead HTTP upstream gives an error naming the server and the cause; the others keep working', async () => {
    const client = await connectClient(gw.mcpUrl('/mcp/doomed'));
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'alive' } })), 'Echo: alive');
    await doomed.stop();
    await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'dead' } }), (err: unknown) => {
      assert.match(errorMessage(err), /doomed/);
      assert.match(errorMessage(err), /refused|unreachable|connect|closed/i);
      return true;
    });
    await client.close().catch(() => {});
    // Readiness learns it from the failed call: there is no connection to an HTTP upstream to watch.
    const ready = (await (await fetch(gw.url + '/health/readiness')).json()) as {
      status: string;
      servers: Record<string, { state: string; error?: string }>;
    };
    assert.equal(ready.servers.doomed!.state, 'down');
    assert.equal(ready.status, 'degraded');
    // A new client may be answered from the warm session, but its first request gets the same answer, not a hang.
    const late = await connectClient(gw.mcpUrl('/mcp/doomed')).catch((err: unknown) => err as Error);
    if (late instanceof Error) assert.match(late.message, /doomed/);
    else {
      await assert.rejects(late.listTools(), /doomed/);
      await late.close().catch(() => {});
    }
    assert.equal(textOf(await everything.callTool({ name: 'echo', arguments: { message: 'fine' } })), 'Echo: fine');
    assert.equal(textOf(await scripted.callTool({ name: 'echo', arguments: { message: 'fine' } })), 'Echo: fine');
  });
});
