import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Caller } from '../../src/caller/caller.js';
import { LimitExceeded } from '../../src/mcp/errors.js';
import { CALL_NOTES, type PolicyHook, type ToolCall } from '../../src/policy/hooks.js';
import { PolicyStage } from '../../src/policy/stage.js';
import { startSpend, type Spend } from '../../src/policy/spend/spend.js';
import { createLogger } from '../../src/observe/log.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { PRICES_YAML } from './rig.js';

/**
 * The outcomes no stage on this branch produces end to end (rate limits and guardrails are other
 * stages): the recorder is driven through a real PolicyStage with hooks that refuse or block as
 * those stages do, and the rows read back from the store.
 */
const guardrailText = (name: string) => ({
  isError: true,
  content: [{ type: 'text', text: `Guardrail violation - ${name}: secret found` }],
});

describe('spend rows for limited and blocked calls', () => {
  let gw: TestGateway;
  let spend: Spend;
  let stage: PolicyStage;
  let reached = 0;
  const caller: Caller = { keyId: 'outcomes-' + process.pid, isMaster: true };
  const hooks: PolicyHook[] = [
    {
      name: 'limits',
      applies: () => true,
      call: (c, next) => {
        if (c.arguments?.limit) throw new LimitExceeded('Crossed TPM / RPM / Max Parallel Request Limit. current rpm: 2, rpm limit: 1', 30);
        return next(c);
      },
    },
    {
      name: 'guardrail',
      applies: () => true,
      call: async (c, next) => {
        // pre: blocked before the upstream, saying so in the call's notes.
        if (c.arguments?.pre) {
          c[CALL_NOTES]!.blocked = 'pre-guard';
          return guardrailText('pre-guard');
        }
        // A hook may also rebuild the call (masked arguments) without spreading it.
        const result = await next(
          c.arguments?.rebuild ? { caller: c.caller, server: c.server, tool: c.tool, called: c.called, signal: c.signal } : { ...c },
        );
        // post: the upstream answered; only the block text says what happened.
        return c.arguments?.post ? guardrailText('post-guard') : result;
      },
    },
  ];
  const call = (tool: string, args: Record<string, unknown>): ToolCall => ({
    caller,
    server: 'paid',
    tool,
    called: tool,
    arguments: args,
    signal: new AbortController().signal,
  });
  const forward = async () => {
    reached++;
    return { content: [{ type: 'text', text: 'ok' }] };
  };

  before(async () => {
    gw = await startTestGateway(PRICES_YAML('http://127.0.0.1:9/mcp', 'http://127.0.0.1:9/mcp'));
    spend = await startSpend({ store: gw.store, log: createLogger({ level: 'silent' }) });
    stage = new PolicyStage(gw.registry, '-', hooks, spend.recorder(gw.registry));
  });
  after(async () => {
    await spend?.close();
    await gw?.close();
  });

  it('limited and pre-blocked calls never reach the upstream and cost nothing; a post block did and is charged; a rebuilt call is still timed', async () => {
    await assert.rejects(stage.call(call('cheap', { limit: true }), forward), LimitExceeded);
    assert.deepEqual(await stage.call(call('cheap', { pre: true }), forward), guardrailText('pre-guard'));
    assert.deepEqual(await stage.call(call('dear', { post: true }), forward), guardrailText('post-guard'));
    await stage.call(call('dear', {}), forward);
    await stage.call(call('cheap', { rebuild: true }), forward);
    // A tool's own failure (isError without the guardrail text) is an error, and it was a call: charged.
    await stage.call(call('cheap', {}), async () => (reached++, { isError: true, content: [{ type: 'text', text: 'boom' }] }));
    assert.equal(reached, 4);
    await spend.writer.flush();
    const rows = await gw.store.query<{ tool: string; outcome: string; spend: number; upstream_ms: number | null }>(
      `SELECT tool, outcome, spend, upstream_ms FROM toolgate_spend_logs WHERE api_key = 'master' AND server = 'paid' ORDER BY id DESC LIMIT 6`,
    );
    assert.deepEqual(
      rows.reverse().map((r) => [r.tool, r.outcome, r.spend, r.upstream_ms === null]),
      [
        ['paid/cheap', 'limited', 0, true],
        ['paid/cheap', 'blocked', 0, true],
        ['paid/dear', 'blocked', 2, false],
        ['paid/dear', 'ok', 2, false],
        ['paid/cheap', 'ok', 0.5, false],
        ['paid/cheap', 'error', 0.5, false],
      ],
    );
  });
});
