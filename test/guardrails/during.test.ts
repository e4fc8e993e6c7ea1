/**
 * `runDuring`'s cancel wiring, which the wire tests see only as "the cancel arrived": the client's
 * cancel reaches the upstream call, a block aborts it, and neither leaves anything bound to the
 * client's cancel once the call is over (a cancel that outlives calls would otherwise grow with each).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyAbort, onCancel, type Cancel } from '../../src/mcp/lazy-abort.js';
import type { Guardrail } from '../../src/policy/guardrails/guardrail.js';
import { runDuring } from '../../src/policy/guardrails/during.js';
import type { Verdict } from '../../src/policy/guardrails/verdict.js';
import type { ToolCall } from '../../src/policy/hooks.js';

const guard = { name: 'g' } as Guardrail;
const bound = (c: LazyAbort): number => (c as unknown as { targets?: unknown[] }).targets?.length ?? 0;

function call(signal: LazyAbort): ToolCall {
  return { caller: {} as ToolCall['caller'], server: 's', tool: 't', called: 't', signal };
}

/** An upstream call that answers when told, or rejects with the reason its signal is cancelled with. */
function upstream() {
  let seen: Cancel | undefined;
  let answer!: (r: Record<string, unknown>) => void;
  const next = (c: ToolCall) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      seen = c.signal;
      answer = resolve;
      onCancel(c.signal, reject);
    });
  return { next, answer: (r: Record<string, unknown>) => answer(r), seen: () => seen };
}

describe('during_mcp_call cancel wiring', () => {
  it('a result with every check passed: nothing stays bound to the client cancel', async () => {
    const client = new LazyAbort();
    const up = upstream();
    let verdict!: (v: Verdict) => void;
    const out = runDuring(call(client), up.next, () => [new Promise<Verdict>((r) => (verdict = r)).then((v) => ({ g: guard, v }))]);
    assert.equal(bound(client), 1);
    up.answer({ content: [] });
    verdict({ action: 'allow' });
    assert.deepEqual(await out, { result: { content: [] } });
    assert.equal(bound(client), 0);
  });

  it('a block aborts the upstream call and leaves nothing bound', async () => {
    const client = new LazyAbort();
    const up = upstream();
    const out = await runDuring(call(client), up.next, () => [
      Promise.resolve({ g: guard, v: { action: 'block', reason: 'no' } as Verdict }),
    ]);
    assert.deepEqual(out, { blocked: { g: guard, reason: 'no' } });
    assert.equal(up.seen()!.aborted, true);
    assert.equal(bound(client), 0);
  });

  it("the client's cancel reaches the upstream call and the checks", async () => {
    const client = new LazyAbort();
    const up = upstream();
    let checkSignal: Cancel | undefined;
    const out = runDuring(call(client), up.next, (signal) => {
      checkSignal = signal;
      // A webhook check gives up when its call is cancelled, as askWebhook does.
      return [new Promise<Verdict>((r) => onCancel(signal, () => r({ action: 'allow' }))).then((v) => ({ g: guard, v }))];
    });
    client.abort('client went away');
    await assert.rejects(out, (err) => err === 'client went away');
    assert.equal(up.seen()!.aborted, true);
    assert.equal(checkSignal!.aborted, true);
  });
});
