import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startLeakyUpstream, type LeakyUpstream } from './leaky-upstream.js';
import { textOf } from './setup.js';

// What guardrail scans reach beyond string `text` leaves: numbers, every string of a content item
// but base64, `_meta`, and an upstream's error message.
const GUARDRAILS = `
guardrails:
  - guardrail_name: no-cards-in
    litellm_params: { guardrail: toolgate_pii, mode: pre_mcp_call, action: block, detectors: [credit_card], default_on: true }
  - guardrail_name: pii-out
    litellm_params: { guardrail: toolgate_pii, mode: post_mcp_call, action: mask, detectors: [email, credit_card], default_on: true }
  - guardrail_name: no-classified
    litellm_params: { guardrail: toolgate_regex, mode: post_mcp_call, keywords: ["TOP SECRET"], default_on: true }
`;
const CARD = 4111111111111111;
const MAIL = 'alice.canary@example.com';
const CLASSIFIED = 'TOP SECRET plan-canary-19b2';

type Obj = Record<string, any>;

describe('guardrails: what the scans read', () => {
  let up: LeakyUpstream;
  let gw: TestGateway;
  let client: Client;

  before(async () => {
    up = await startLeakyUpstream({
      card: { content: [{ type: 'text', text: 'see structuredContent' }], structuredContent: { card: CARD, nested: [CARD] } },
      link: { content: [{ type: 'resource_link', uri: `mailto:${MAIL}`, name: MAIL, description: `write to ${MAIL}` }] },
      meta: { content: [{ type: 'text', text: 'ok', _meta: { note: CLASSIFIED } }] },
      blob: {
        content: [
          { type: 'image', mimeType: 'image/png', data: String(CARD) },
          { type: 'resource', resource: { uri: 'file:///a.bin', blob: String(CARD) } },
        ],
      },
      fail: { error: { code: -32603, message: `failed: ${CLASSIFIED}` } },
      failmail: { error: { code: -32000, message: `no mailbox for ${MAIL}`, data: { who: MAIL } } },
    });
    gw = await startTestGateway(`mcp_servers:\n  leaky: { url: "${up.url}" }\n${GUARDRAILS}`);
    client = await connectClient(gw.mcpUrl('/mcp/leaky'));
  });
  after(async () => {
    await client?.close().catch(() => {});
    await gw?.close();
    await up?.stop();
  });

  it('pre_mcp_call: a card number sent as a JSON number is blocked before the upstream', async () => {
    const before = up.calls.length;
    const r = await client.callTool({ name: 'card', arguments: { card: CARD } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^Guardrail violation - no-cards-in: credit_card detected in arguments\.card/);
    assert.equal(up.calls.length, before, 'the upstream never saw the call');
  });

  it('post_mcp_call: a number in structuredContent is masked', async () => {
    const r = await client.callTool({ name: 'card', arguments: {} });
    const s = r.structuredContent as Obj;
    assert.deepEqual(s, { card: '[REDACTED_CREDIT_CARD]', nested: ['[REDACTED_CREDIT_CARD]'] });
  });

  it("post_mcp_call: a resource link's uri, name and description are masked", async () => {
    const r = await client.callTool({ name: 'link', arguments: {} });
    const item = (r.content as Obj[])[0]!;
    assert.ok(!JSON.stringify(r).includes(MAIL), JSON.stringify(r));
    assert.equal(item.name, '[REDACTED_EMAIL]');
    assert.equal(item.description, 'write to [REDACTED_EMAIL]');
    assert.equal(item.uri, 'mailto:[REDACTED_EMAIL]');
  });

  it("post_mcp_call: a content item's _meta is checked (block)", async () => {
    const r = await client.callTool({ name: 'meta', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^Guardrail violation - no-classified: /);
    assert.ok(!JSON.stringify(r).includes('plan-canary'));
  });

  it('post_mcp_call: base64 payloads (image data, resource blob) are left alone', async () => {
    const r = await client.callTool({ name: 'blob', arguments: {} });
    const [image, resource] = r.content as Obj[];
    assert.equal(image!.data, String(CARD));
    assert.equal(resource!.resource.blob, String(CARD));
  });

  it("post_mcp_call: an upstream error's message is checked: a block answers in its place", async () => {
    const r = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^Guardrail violation - no-classified: /);
    assert.ok(!JSON.stringify(r).includes('plan-canary'));
  });

  it("post_mcp_call: an upstream error's message and data are masked", async () => {
    const err = await client.callTool({ name: 'failmail', arguments: {} }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as { code: number; message: string; data?: unknown },
    );
    assert.equal(err.code, -32000);
    assert.match(err.message, /no mailbox for \[REDACTED_EMAIL\]/);
    assert.ok(!err.message.includes(MAIL) && !JSON.stringify(err.data ?? null).includes(MAIL), JSON.stringify(err));
  });
});
