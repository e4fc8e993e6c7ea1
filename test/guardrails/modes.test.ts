import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLIENT_KINDS, connectEraClient } from '../helpers/era-clients.js';
import { startGuardedUpstream, type GuardedUpstream } from '../fixtures/guarded-upstream.js';
import { postgresRun } from '../store/engines.js';
import { assertNoCanary, auditRows, connectSse, GITHUB_CANARY, textOf } from './setup.js';

const GUARDRAILS = `
guardrails:
  - guardrail_name: no-secrets
    litellm_params: { guardrail: toolgate_secrets, mode: pre_mcp_call, default_on: true }
  - guardrail_name: ssn-in-args
    litellm_params:
      guardrail: litellm_content_filter
      mode: pre_mcp_call
      default_on: true
      patterns: [{ pattern_type: prebuilt, pattern_name: us_ssn, action: MASK }]
  - guardrail_name: pii-out
    litellm_params: { guardrail: toolgate_pii, mode: post_mcp_call, action: mask, detectors: [email], default_on: true }
  - guardrail_name: no-classified
    litellm_params: { guardrail: toolgate_regex, mode: post_mcp_call, keywords: ["TOP SECRET"], default_on: true }
`;
const CLASSIFIED = 'TOP SECRET payload-canary-7f3a';

describe('guardrails: pre, post and what a block looks like', () => {
  let up: GuardedUpstream;
  let other: GuardedUpstream;
  let gw: TestGateway;
  const clients: Client[] = [];

  before(async () => {
    up = await startGuardedUpstream();
    other = await startGuardedUpstream();
    gw = await startTestGateway(`mcp_servers:\n  g: { url: "${up.url}" }\n  h: { url: "${other.url}" }\n${GUARDRAILS}`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await up?.stop();
    await other?.stop();
  });

  const connect = async (path: string) => {
    const c = await connectClient(gw.mcpUrl(path));
    clients.push(c);
    return c;
  };

  it('pre_mcp_call block: a secret in the arguments never reaches the upstream, on both eras, the aggregate and legacy SSE', async () => {
    const targets: Array<[string, string]> = [
      ['/mcp/g', 'echo'],
      ['/mcp', 'g-echo'],
    ];
    for (const [path, tool] of targets) {
      for (const kind of CLIENT_KINDS) {
        const client = await connectEraClient(kind, gw.mcpUrl(path));
        try {
          const r = (await client.callTool(tool, { text: `use ${GITHUB_CANARY} please` })) as { isError?: boolean };
          assert.equal(r.isError, true, `${kind} ${path}`);
          assert.equal(textOf(r), 'Guardrail violation - no-secrets: github_token detected in arguments.text', `${kind} ${path}`);
        } finally {
          await client.close();
        }
      }
    }
    const sse = await connectSse(gw.mcpUrl('/mcp/g/sse'));
    clients.push(sse);
    const r = await sse.callTool({ name: 'echo', arguments: { nested: { deeper: [`AKIACANARY0123456789`] } } });
    assert.equal(textOf(r), 'Guardrail violation - no-secrets: aws_access_key_id detected in arguments.nested.deeper[0]');
    assert.equal(up.count('echo'), 0, 'no blocked call reached the upstream');
    const rows = await auditRows(gw, 'guardrail_blocked', targets.length * CLIENT_KINDS.length + 1);
    assert.equal(rows[0].object_type, 'mcp_tool');
    assert.equal(rows[0].after.guardrail, 'no-secrets');
    assert.equal(rows[0].after.mode, 'pre_mcp_call');
    assert.ok(gw.alerts.count('guardrail_blocked') >= rows.length);
    assertNoCanary('the audit trail', JSON.stringify(rows), [GITHUB_CANARY, 'AKIACANARY0123456789']);
    assertNoCanary('the log', gw.logs.join(''), [GITHUB_CANARY, 'AKIACANARY0123456789']);
  });

  it('pre_mcp_call mask: the upstream gets the arguments masked', async () => {
    const client = await connect('/mcp/g');
    const r = await client.callTool({ name: 'echo', arguments: { text: 'ssn 123-45-6789 on file' } });
    assert.equal(up.calls.at(-1)!.arguments!.text, 'ssn [REDACTED_US_SSN] on file');
    assert.equal(textOf(r), 'ssn [REDACTED_US_SSN] on file');
  });

  it('post_mcp_call mask: result text and every string in structuredContent', async () => {
    for (const [path, tool] of [
      ['/mcp/g', 'echo'],
      ['/mcp', 'h-echo'],
    ] as const) {
      const client = await connect(path);
      const r = await client.callTool({ name: tool, arguments: { text: 'write to ada@example.com' } });
      assert.equal(textOf(r), 'write to [REDACTED_EMAIL]', path);
      assert.deepEqual(r.structuredContent, { echo: 'write to [REDACTED_EMAIL]', nested: { items: ['write to [REDACTED_EMAIL]'] } }, path);
    }
    assert.equal(up.calls.at(-1)!.arguments!.text, 'write to ada@example.com', 'post guardrails leave the arguments alone');
  });

  it('post_mcp_call block: the upstream ran, but its content never reaches the client', async () => {
    const before = up.count('echo');
    const client = await connect('/mcp/g');
    const r = await client.callTool({ name: 'echo', arguments: { text: CLASSIFIED } });
    assert.equal(up.count('echo'), before + 1);
    assert.equal(r.isError, true);
    assert.equal(textOf(r), 'Guardrail violation - no-classified: keyword detected in result.content[0].text');
    assertNoCanary('the blocked answer', JSON.stringify(r), [CLASSIFIED]);
    const rows = await auditRows(gw, 'guardrail_blocked');
    assert.ok(rows.some((row) => row.after.mode === 'post_mcp_call' && row.object_id === 'g/echo'));
    assertNoCanary('the log', gw.logs.join(''), [CLASSIFIED]);
  });
});

describe('guardrails: block audit rows on PostgreSQL', () => {
  it('a block is written to the audit trail of a PostgreSQL store, without the secret', async () => {
    const run = await postgresRun();
    const store = await run.open();
    const up = await startGuardedUpstream();
    const gw = await startTestGateway(`mcp_servers:\n  g: { url: "${up.url}" }\n${GUARDRAILS}`, {}, 0, { store });
    try {
      const client = await connectClient(gw.mcpUrl('/mcp/g'));
      const r = await client.callTool({ name: 'echo', arguments: { text: GITHUB_CANARY } });
      assert.equal(textOf(r), 'Guardrail violation - no-secrets: github_token detected in arguments.text');
      await client.close();
      const rows = await auditRows(gw, 'guardrail_blocked');
      assert.equal(rows[0].object_id, 'g/echo');
      const stored = await store.query("SELECT after::text AS after FROM toolgate_audit WHERE action = 'guardrail_blocked'");
      assertNoCanary('the PostgreSQL audit table', JSON.stringify(stored), [GITHUB_CANARY]);
      assert.equal(up.count('echo'), 0);
    } finally {
      await gw.close();
      await store.close();
      await up.stop();
      await run.cleanup();
    }
  });
});
