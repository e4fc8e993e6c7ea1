import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { api } from '../admin/api.js';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { startGuardedUpstream, type GuardedUpstream } from '../fixtures/guarded-upstream.js';
import { startGuardrailWebhook, type GuardrailWebhook, type WebhookAnswer } from '../fixtures/guardrail-webhook.js';
import { assertNoCanary, textOf } from './setup.js';

const HOOK_KEY = 'hook-key-canary-5b1e2d9c';
/** Nothing listens on port 9 (discard) on these machines: a dead webhook. */
const DEAD = 'http://127.0.0.1:9/guardrail';

describe('guardrails: the webhook', () => {
  let up: GuardedUpstream;
  let hook: GuardrailWebhook;
  let gw: TestGateway;
  let client: Client;
  let release: (() => void) | undefined;

  before(async () => {
    up = await startGuardedUpstream();
    hook = await startGuardrailWebhook(async (body): Promise<WebhookAnswer> => {
      const text = JSON.stringify(body.data);
      if (body.tool === 'hold' && body.mode === 'during_mcp_call') {
        // during_mcp_call: the verdict comes once the upstream call is under way.
        await new Promise<void>((r) => (release = r));
        return { json: { action: 'BLOCKED', blocked_reason: 'hold is not allowed today' } };
      }
      if (body.mode === 'during_mcp_call' && text.includes('late-verdict')) {
        // The upstream has the call (and answers at once): the verdict comes after its answer.
        await until(() => up.calls.some((c) => JSON.stringify(c.arguments).includes('late-verdict')), 'the upstream call');
        return { json: { action: 'block', reason: 'too late, but in time' } };
      }
      if (text.includes('mask-me')) return { json: { action: 'mask', data: { text: 'masked by hook' } } };
      if (text.includes('forbidden')) return { json: { action: 'block', reason: 'forbidden word' } };
      if (text.includes('garbage')) return { raw: 'not json' };
      if (text.includes('error500')) return { status: 500 };
      if (text.includes('slow')) return 'hang';
      return { json: { action: 'allow' } };
    });
    const entry = (name: string, mode: string, url: string, extra = '') =>
      `  - guardrail_name: ${name}\n    litellm_params: { guardrail: generic_guardrail_api, mode: ${mode}, api_base: "${url}", api_key: os.environ/HOOK_KEY, default_on: true${extra} }\n`;
    gw = await startTestGateway(
      `mcp_servers:\n  g: { url: "${up.url}" }\nguardrails:\n` +
        entry('hook-pre', 'pre_mcp_call', hook.url, ', timeout: 0.3') +
        entry('hook-during', 'during_mcp_call', hook.url) +
        entry('hook-post', 'post_mcp_call', hook.url) +
        `  - guardrail_name: dead-closed\n    litellm_params: { guardrail: generic_guardrail_api, mode: pre_mcp_call, api_base: "${DEAD}" }\n`,
      { HOOK_KEY },
    );
    client = await connectClient(gw.mcpUrl('/mcp/g'));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await hook?.stop();
    await up?.stop();
  });

  it("POSTs the contract's JSON with the key, and lets an allowed call through", async () => {
    const r = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    assert.equal(textOf(r), 'hello');
    const pre = hook.requests.find((q) => q.body.mode === 'pre_mcp_call')!;
    assert.deepEqual(pre.body, {
      guardrail_name: 'hook-pre',
      mode: 'pre_mcp_call',
      input_type: 'tool_arguments',
      server: 'g',
      tool: 'echo',
      data: { text: 'hello' },
    });
    assert.equal(pre.headers.authorization, `Bearer ${HOOK_KEY}`);
    const post = hook.requests.find((q) => q.body.mode === 'post_mcp_call')!;
    assert.equal(post.body.input_type, 'tool_result');
    assert.equal(post.body.data.content[0].text, 'hello');
  });

  it('block and mask verdicts; a blocked call never reaches the upstream', async () => {
    const before = up.count('echo');
    const blocked = await client.callTool({ name: 'echo', arguments: { text: 'a forbidden thing' } });
    assert.equal(textOf(blocked), 'Guardrail violation - hook-pre: forbidden word');
    assert.equal(up.count('echo'), before);
    const masked = await client.callTool({ name: 'echo', arguments: { text: 'mask-me' } });
    assert.equal(up.calls.at(-1)!.arguments!.text, 'masked by hook');
    assert.equal(textOf(masked), 'masked by hook');
  });

  it('fails closed when it gives no verdict (bad JSON, HTTP 500, timeout), unless fail_open', async () => {
    const before = up.count('echo');
    for (const [text, why] of [
      ['garbage', 'answer is not JSON'],
      ['error500', 'HTTP 500'],
      ['slow', 'no answer within 300 ms'],
    ]) {
      const r = await client.callTool({ name: 'echo', arguments: { text } });
      assert.equal(textOf(r), `Guardrail violation - hook-pre: guardrail webhook gave no verdict (${why}); failing closed`);
    }
    assert.equal(up.count('echo'), before);
    assert.ok(gw.logs.some((l) => l.includes('guardrail webhook gave no verdict')));
    assertNoCanary('the log', gw.logs.join(''), [HOOK_KEY]);
  });

  it('a dead webhook: the closed one blocks, the open one lets the call through', async () => {
    const before = up.count('echo');
    // Attached to one key only: the others keep working.
    const key = await api(gw, 'POST', '/key/generate', { guardrails: ['dead-closed'] });
    assert.equal(key.status, 200, key.text);
    const keyed = await connectClient(gw.mcpUrl('/mcp/g'), { key: key.json.key });
    const r = await keyed.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await keyed.close();
    assert.equal(textOf(r), 'Guardrail violation - dead-closed: guardrail webhook gave no verdict (unreachable); failing closed');
    assert.equal(up.count('echo'), before);
    const open = await startTestGateway(
      `mcp_servers:\n  g: { url: "${up.url}" }\nguardrails:\n  - guardrail_name: dead-open\n    litellm_params: { guardrail: generic_guardrail_api, mode: [pre_mcp_call, post_mcp_call], api_base: "${DEAD}", fail_open: true, default_on: true }\n`,
    );
    const c = await connectClient(open.mcpUrl('/mcp/g'));
    try {
      assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: 'through' } })), 'through');
      assert.equal(up.count('echo'), before + 1);
      assert.ok(
        open.logs.some((l) => l.includes('"guardrail":"dead-open"') && l.includes('unreachable')),
        'the failure is logged',
      );
    } finally {
      await c.close();
      await open.close();
    }
  });

  it('during_mcp_call: a block that arrives while the call runs cancels the upstream call', async () => {
    const call = client.callTool({ name: 'hold', arguments: {} });
    await until(() => up.count('hold') === 1 && release, 'the upstream call and the during check both under way');
    release!();
    const r = await call;
    assert.equal(r.isError, true);
    assert.equal(textOf(r), 'Guardrail violation - hook-during: hold is not allowed today');
    await until(() => up.cancelled.includes('hold'), 'the upstream call cancelled');
  });

  it('during_mcp_call: a result that comes before the verdict is held, and a block means it never reaches the client', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { text: 'late-verdict secret-result-canary' } });
    assert.ok(
      up.calls.some((c) => String(c.arguments?.text).includes('late-verdict')),
      'the upstream answered',
    );
    assert.equal(textOf(r), 'Guardrail violation - hook-during: too late, but in time');
    assertNoCanary('the blocked answer', JSON.stringify(r), ['secret-result-canary']);
  });
});
