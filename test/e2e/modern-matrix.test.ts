import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StateTokens } from '../../src/mcp/state-token.js';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';
import { startEverything, type RunningEverything } from '../fixtures/everything.js';
import { startInputRecorder, type InputRecorder } from '../fixtures/input-recorder.js';
import { startModernOnly, type ModernOnlyFront } from '../fixtures/modern-only.js';
import { startPushyModern, type PushyModern } from '../fixtures/pushy-modern.js';
import { CLIENT_KINDS, connectEraClient, ELICITED_NAME, isModernKind, SAMPLED_TEXT, type EraClient } from '../helpers/era-clients.js';
import { rawPost, startTestGateway, textOf, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

/**
 * The client matrix of the "both MCP eras" issue: each official client (SDK v2 pinned to
 * 2026-07-28, v2 auto, v2 legacy, SDK v1) through /mcp/{server} and through the /mcp aggregate,
 * against a 2025-era upstream (server-everything) and a 2026-only one (the conformance fixture
 * behind a front that refuses `initialize`). Sampling and elicitation cross every pairing, which
 * covers both bridges: a 2026 client in front of the 2025 server gets input_required rounds of
 * gateway-minted state, a 2025 client in front of the 2026-only server gets real requests.
 */

interface Probe {
  tool: string;
  args: Record<string, unknown>;
  expect: RegExp;
}

interface UpstreamCase {
  era: '2025' | '2026';
  listed: string[];
  call: Probe;
  sampling: Probe;
  elicitation: Probe;
}

const UPSTREAMS: Record<'everything' | 'modern', UpstreamCase> = {
  everything: {
    era: '2025',
    listed: ['echo', 'trigger-sampling-request', 'trigger-elicitation-request'],
    call: { tool: 'echo', args: { message: 'matrix' }, expect: /^Echo: matrix$/ },
    sampling: { tool: 'trigger-sampling-request', args: { prompt: 'matrix-prompt', maxTokens: 10 }, expect: new RegExp(SAMPLED_TEXT) },
    elicitation: { tool: 'trigger-elicitation-request', args: {}, expect: new RegExp(ELICITED_NAME) },
  },
  modern: {
    era: '2026',
    listed: ['test_simple_text', 'test_sampling', 'test_elicitation'],
    call: { tool: 'test_simple_text', args: {}, expect: /simple text response/ },
    sampling: { tool: 'test_sampling', args: { prompt: 'matrix-prompt' }, expect: new RegExp(`LLM response: ${SAMPLED_TEXT}`) },
    elicitation: { tool: 'test_elicitation', args: { message: 'Your name?' }, expect: new RegExp(`action=accept.*${ELICITED_NAME}`) },
  },
};

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SECRET = 'matrix-test-state-secret-0123456789abcdef';

/** Which path a pairing takes through the gateway, for the test names. */
function pairing(modernClient: boolean, era: '2025' | '2026'): string {
  if (modernClient && era === '2025') return 'bridge: input_required rounds';
  if (!modernClient && era === '2026') return 'bridge: real server-to-client requests';
  return modernClient ? '2026 on both sides' : '2025 on both sides';
}

describe(
  'client matrix: {v2 pinned, v2 auto, v2 legacy, v1} x {/mcp/{server}, /mcp} x {2025, 2026-only upstream}',
  { timeout: 120_000 },
  () => {
    let everything: RunningEverything;
    let fixture: RunningConformanceServer;
    let front: ModernOnlyFront;
    let gw: TestGateway;

    before(async () => {
      [everything, fixture] = await Promise.all([startEverything('streamableHttp'), startConformanceServer({ port: 0 })]);
      front = await startModernOnly(fixture.url);
      gw = await startTestGateway(
        `toolgate_settings:\n  state_secret: ${SECRET}\nmcp_servers:\n  everything:\n    url: ${everything.url}\n  modern:\n    url: ${front.url}\n`,
      );
    });
    after(async () => {
      await gw?.close();
      await front?.stop();
      await Promise.all([everything?.stop(), fixture?.stop()]);
    });

    for (const kind of CLIENT_KINDS) {
      const modernClient = isModernKind(kind);
      // One client per path: /mcp/everything, /mcp/modern, and /mcp holding both servers.
      for (const path of ['/mcp/everything', '/mcp/modern', '/mcp']) {
        describe(`${kind} via ${path}`, () => {
          let client: EraClient;
          before(async () => {
            client = await connectEraClient(kind, gw.mcpUrl(path));
          });
          after(async () => {
            await client?.close();
          });

          it(`speaks the ${modernClient ? '2026-07-28' : '2025'} era`, () => {
            if (modernClient) assert.equal(client.version, '2026-07-28');
            else assert.match(String(client.version), /^20(24|25)-/);
            // And so do the upstreams: a 2025 session server, and a 2026 one never spoken to in 2025.
            assert.equal(gw.upstreams.get('everything')!.era, 'legacy');
            assert.equal(gw.upstreams.get('modern')!.era, 'modern');
            if (!modernClient && path !== '/mcp/everything') assert.equal(gw.upstreams.get('modern')!.speaksLegacy, false);
          });

          const servers =
            path === '/mcp' ? (['everything', 'modern'] as const) : ([path.slice('/mcp/'.length)] as ['everything' | 'modern']);
          for (const server of servers) {
            const up = UPSTREAMS[server];
            const name = (tool: string) => (path === '/mcp' ? `${server}-${tool}` : tool);
            const label = `${server} (${up.era}, ${pairing(modernClient, up.era)})`;

            it(`${label}: lists and calls`, async () => {
              const tools = await client.listTools();
              for (const t of up.listed) assert.ok(tools.includes(name(t)), `${name(t)} listed`);
              const r = await client.callTool(name(up.call.tool), up.call.args);
              assert.match(textOf(r), up.call.expect);
            });

            it(`${label}: sampling round trip`, async () => {
              const before = client.seen.sampling.length;
              const r = await client.callTool(name(up.sampling.tool), up.sampling.args);
              assert.match(textOf(r), up.sampling.expect);
              assert.equal(client.seen.sampling.length, before + 1, 'the client was asked exactly once');
              assert.match(client.seen.sampling.at(-1)!, /matrix-prompt/);
            });

            it(`${label}: elicitation round trip`, async () => {
              const before = client.seen.elicitation.length;
              const r = await client.callTool(name(up.elicitation.tool), up.elicitation.args);
              assert.match(textOf(r), up.elicitation.expect);
              assert.equal(client.seen.elicitation.length, before + 1, 'the client was asked exactly once');
              assert.deepEqual(client.seen.other, []);
            });
          }
        });
      }
    }

    describe('listen notifications: a tool change of the 2026-only upstream reaches every client kind', { timeout: 15_000 }, () => {
      for (const kind of CLIENT_KINDS) {
        for (const path of ['/mcp/modern', '/mcp']) {
          it(`${kind} via ${path}`, async () => {
            const client = await connectEraClient(kind, gw.mcpUrl(path), false);
            try {
              const changed = await client.watchToolsChanged();
              await client.callTool(path === '/mcp' ? 'modern-test_trigger_tool_change' : 'test_trigger_tool_change');
              await within(changed(), 'notifications/tools/list_changed');
            } finally {
              await client.close();
            }
          });
        }
      }
    });

    describe('listen notifications: a resource update of the 2025 upstream reaches every client kind', { timeout: 30_000 }, () => {
      const uri = 'demo://resource/static/document/architecture.md';
      for (const kind of CLIENT_KINDS) {
        for (const path of ['/mcp/everything', '/mcp']) {
          it(`${kind} via ${path}`, async () => {
            // Declaring nothing puts the listen and the calls on one shared upstream session, where
            // server-everything keeps its per-session update switch.
            const client = await connectEraClient(kind, gw.mcpUrl(path), false);
            const toggle = path === '/mcp' ? 'everything-toggle-subscriber-updates' : 'toggle-subscriber-updates';
            try {
              const updated = await client.watchResource(uri);
              assert.match(textOf(await client.callTool(toggle)), /Started/);
              try {
                assert.equal(await within(updated(), 'notifications/resources/updated'), uri);
              } finally {
                await client.callTool(toggle);
              }
            } finally {
              await client.close();
            }
          });
        }
      }
    });

    describe('requestState: tampered and expired refused, the genuine retry resumes', () => {
      const cases = [
        { path: '/mcp/everything', tool: 'trigger-sampling-request', args: { prompt: 'rs', maxTokens: 5 }, prefix: 'tg1' },
        { path: '/mcp', tool: 'everything-trigger-sampling-request', args: { prompt: 'rs', maxTokens: 5 }, prefix: 'tg1' },
        { path: '/mcp/modern', tool: 'test_sampling', args: { prompt: 'rs' }, prefix: 'tg2' },
        { path: '/mcp', tool: 'modern-test_sampling', args: { prompt: 'rs' }, prefix: 'tg2' },
      ];
      for (const c of cases) {
        it(`${c.path} ${c.tool} (${c.prefix === 'tg1' ? 'gateway-minted' : 'wrapped upstream'} state)`, async () => {
          const url = gw.mcpUrl(c.path);
          const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': c.tool };
          const post = (id: number, extra: Record<string, unknown> = {}) =>
            rawPost(
              url,
              JSON.stringify({
                jsonrpc: '2.0',
                id,
                method: 'tools/call',
                params: { name: c.tool, arguments: c.args, ...extra, _meta: { [PV]: '2026-07-28', [CAPS]: { sampling: {} } } },
              }),
              headers,
            );
          const first = await post(1);
          assert.equal(first.json.result?.resultType, 'input_required', first.text);
          const state: string = first.json.result.requestState;
          assert.equal(state.split('.')[0], c.prefix);
          const key = Object.keys(first.json.result.inputRequests)[0]!;
          const inputResponses = { [key]: { role: 'assistant', content: { type: 'text', text: 'state-checked' }, model: 'm' } };

          const tampered = state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A');
          const bad = await post(2, { requestState: tampered, inputResponses });
          assert.equal(bad.json.error?.code, -32602, bad.text);
          // Expired: the same claims, correctly signed with the configured secret, but past their expiry.
          const { exp: _exp, ...claims } = JSON.parse(Buffer.from(state.split('.')[1]!, 'base64url').toString('utf8')) as Record<
            string,
            unknown
          >;
          const expired = await post(3, { requestState: new StateTokens(SECRET, c.prefix).sign(claims, -1_000), inputResponses });
          assert.equal(expired.json.error?.code, -32602, expired.text);
          assert.match(expired.json.error.message, /Invalid or expired requestState/);

          const done = await post(4, { requestState: state, inputResponses });
          assert.equal(done.json.result?.resultType, 'complete', done.text);
          assert.match(JSON.stringify(done.json.result.content), /state-checked/);
        });
      }
    });
  },
);

/**
 * Upstreams that ask for sampling and elicitation whatever the client declared (a 2025 session
 * server and a 2026-only stateless one): the gateway alone must keep those requests from a client
 * that did not declare the capability, in both eras and across both bridges.
 */
describe('a capability the client did not declare is never requested', { timeout: 60_000 }, () => {
  let recorder: InputRecorder;
  let pushy: PushyModern;
  let gw: TestGateway;
  before(async () => {
    [recorder, pushy] = await Promise.all([startInputRecorder(), startPushyModern()]);
    gw = await startTestGateway(`mcp_servers:\n  recorder:\n    url: ${recorder.url}\n  pushy:\n    url: ${pushy.url}\n`);
  });
  after(async () => {
    await gw?.close();
    await Promise.all([recorder?.stop(), pushy?.stop()]);
  });

  for (const kind of CLIENT_KINDS) {
    for (const server of ['recorder', 'pushy'] as const) {
      it(`${kind} -> ${server} (${server === 'recorder' ? '2025' : '2026'})`, async () => {
        const client = await connectEraClient(kind, gw.mcpUrl(`/mcp/${server}`), false);
        try {
          for (const tool of ['ask_sampling', 'ask_elicitation']) {
            const outcome = await client.callTool(tool, { hold: false }).then(textOf, (err: Error) => `refused: ${err.message}`);
            // The 2025 server heard a refusal in the client's stead; the 2026 one never got an answer.
            if (server === 'recorder') assert.match(outcome, /^error: /, `${tool}: ${outcome}`);
            else assert.doesNotMatch(outcome, /answered/, `${tool}: ${outcome}`);
          }
          assert.deepEqual(client.seen, { sampling: [], elicitation: [], other: [] });
        } finally {
          await client.close();
        }
      });
    }
  }

  // A 2026 upstream that asks anyway is answered for the client: -32021, never input_required (reference 2.1).
  for (const server of ['recorder', 'pushy'] as const) {
    it(`on the wire, a 2026-07-28 request without the capability never gets input_required (${server})`, async () => {
      for (const tool of ['ask_sampling', 'ask_elicitation']) {
        const body = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: tool, arguments: { hold: false }, _meta: { [PV]: '2026-07-28', [CAPS]: {} } },
        });
        const r = await rawPost(gw.mcpUrl(`/mcp/${server}`), body, {
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': tool,
        });
        assert.notEqual(r.json?.result?.resultType, 'input_required', `${tool}: ${r.text}`);
      }
    });
  }
});
