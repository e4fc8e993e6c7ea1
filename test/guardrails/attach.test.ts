import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, uid } from '../admin/api.js';
import { connectClient, startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import { startGuardedUpstream, type GuardedUpstream } from '../fixtures/guarded-upstream.js';
import { textOf } from './setup.js';

const word = (name: string, keyword: string, extra = '') =>
  `  - guardrail_name: ${name}\n    litellm_params: { guardrail: toolgate_regex, mode: pre_mcp_call, keywords: ["${keyword}"]${extra} }\n`;

describe('guardrails: attached to keys, teams, or everyone (default_on)', () => {
  let up: GuardedUpstream;
  let gw: TestGateway;
  const keys: Record<string, string> = {};

  before(async () => {
    up = await startGuardedUpstream();
    gw = await startTestGateway(
      // Two servers, so /mcp is the aggregate.
      `mcp_servers:\n  g: { url: "${up.url}" }\n  h: { url: "${up.url}" }\nguardrails:\n` +
        word('key-guard', 'alpha-word') +
        word('team-guard', 'beta-word') +
        word('all-guard', 'gamma-word', ', default_on: true'),
    );
    const team = await api(gw, 'POST', '/team/new', { team_alias: `guarded-${uid()}`, guardrails: ['team-guard'] });
    assert.equal(team.status, 200, team.text);
    for (const [name, body] of [
      ['keyed', { guardrails: ['key-guard'] }],
      ['teamed', { team_id: team.json.team_id }],
      ['plain', {}],
    ] as const) {
      const r = await api(gw, 'POST', '/key/generate', body);
      assert.equal(r.status, 200, r.text);
      keys[name] = r.json.key;
    }
    keys.master = TEST_KEY;
  });
  after(async () => {
    await gw?.close();
    await up?.stop();
  });

  /** Which of the three words each key's call is blocked on, over one server and the aggregate. */
  async function blockedWords(key: string, path = '/mcp/g', tool = 'echo'): Promise<string[]> {
    const client = await connectClient(gw.mcpUrl(path), { key });
    try {
      const out: string[] = [];
      for (const w of ['alpha-word', 'beta-word', 'gamma-word']) {
        const r = await client.callTool({ name: tool, arguments: { text: `say ${w}` } });
        if (textOf(r).startsWith('Guardrail violation - ')) out.push(w);
        else assert.equal(textOf(r), `say ${w}`, 'an allowed call is answered by the echo tool');
      }
      return out;
    } finally {
      await client.close();
    }
  }

  it("a key's guardrails, its team's, and default_on ones apply to its MCP calls", async () => {
    for (const [path, tool] of [
      ['/mcp/g', 'echo'],
      ['/mcp', 'g-echo'],
    ]) {
      assert.deepEqual(await blockedWords(keys.keyed!, path, tool), ['alpha-word', 'gamma-word'], `key ${path}`);
      assert.deepEqual(await blockedWords(keys.teamed!, path, tool), ['beta-word', 'gamma-word'], `team ${path}`);
      assert.deepEqual(await blockedWords(keys.plain!, path, tool), ['gamma-word'], `plain ${path}`);
      assert.deepEqual(await blockedWords(keys.master!, path, tool), ['gamma-word'], `master ${path}`);
    }
  });

  it('a guardrail added to a key applies from its next call', async () => {
    const r = await api(gw, 'POST', '/key/update', { key: keys.plain, guardrails: ['key-guard', 'team-guard'] });
    assert.equal(r.status, 200, r.text);
    await until(async () => (await blockedWords(keys.plain!)).length === 3, 'the new guardrails in force');
  });
});
