import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StateTokens } from '../../src/mcp/state-token.js';
import { startInputRecorder, type InputRecorder } from '../fixtures/input-recorder.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SECRET = 'abandon-test-state-secret-0123456789abcdef';
const DECLARED = { elicitation: { form: {} }, sampling: {}, roots: {} };
const TOOLS = ['ask_elicitation', 'ask_sampling', 'ask_roots'] as const;

function call(id: number, name: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: {}, ...extra, _meta: { [PV]: '2026-07-28', [CAPS]: DECLARED } },
  });
}

const headers = (name: string) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });

/**
 * A 2026-07-28 client gets `input_required` for a call that a 2025-era upstream interrupted with a
 * server-to-client request, and never retries. Once the requestState expires, the gateway must
 * answer the upstream's waiting request itself (decline for elicitation, an error for sampling
 * and roots), cancel the upstream call, and forget the exchange: a late retry is refused.
 */
describe('an abandoned input_required bridged from a 2025-era upstream', { timeout: 30_000 }, () => {
  let recorder: InputRecorder;
  let gw: TestGateway;
  const states = new Map<string, string>();

  before(async () => {
    recorder = await startInputRecorder();
    // A short expiry so the test sees it; the upstream timeout stays longer, so only the
    // abandonment (not the per-request timeout) can answer the upstream in time.
    gw = await startTestGateway(
      `toolgate_settings:\n  request_state_ttl_seconds: 0.5\n  state_secret: ${SECRET}\nmcp_servers:\n  recorder:\n    url: ${recorder.url}\n    timeout: 3\n`,
    );
    let id = 1;
    for (const tool of TOOLS) {
      const r = await rawPost(gw.mcpUrl('/mcp/recorder'), call(id++, tool), headers(tool));
      assert.equal(r.json.result?.resultType, 'input_required', `${tool}: ${r.text}`);
      const state: string = r.json.result.requestState;
      assert.ok(state.startsWith('tg1.'), 'gateway-minted state');
      states.set(tool, state);
    }
  });
  after(async () => {
    await gw?.close();
    await recorder?.stop();
  });

  it('declines the waiting elicitation upstream', async () => {
    const e = await recorder.next('ask_elicitation', 'answer');
    assert.deepEqual(e.detail, { action: 'decline' });
    assert.ok(!recorder.events.some((x) => x.tool === 'ask_elicitation' && x.kind === 'error'));
  });

  it('answers the waiting sampling and roots requests with an error', async () => {
    for (const tool of ['ask_sampling', 'ask_roots']) {
      const e = await recorder.next(tool, 'error');
      assert.match(String((e.detail as { message?: string }).message), /did not answer/, tool);
      assert.ok(!recorder.events.some((x) => x.tool === tool && x.kind === 'answer'), tool);
    }
  });

  it('refuses a retry after the expiry with -32602 "Invalid or expired requestState"', async () => {
    await recorder.next('ask_elicitation', 'answer');
    const state = states.get('ask_elicitation')!;
    const r = await rawPost(
      gw.mcpUrl('/mcp/recorder'),
      call(10, 'ask_elicitation', { requestState: state, inputResponses: { 'input-1': { action: 'accept', content: { name: 'late' } } } }),
      headers('ask_elicitation'),
    );
    assert.equal(r.json.error?.code, -32602, r.text);
    assert.match(r.json.error.message, /Invalid or expired requestState/);
  });

  it('drops the exchange: even a validly signed, unexpired state for it resumes nothing', async () => {
    await recorder.next('ask_sampling', 'error');
    const state = states.get('ask_sampling')!;
    // Re-sign the same payload with a fresh expiry (the test holds the configured secret).
    const payload = JSON.parse(Buffer.from(state.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { exp: _exp, ...binding } = payload;
    const fresh = new StateTokens(SECRET, 'tg1').sign(binding, 60_000);
    const r = await rawPost(
      gw.mcpUrl('/mcp/recorder'),
      call(11, 'ask_sampling', {
        requestState: fresh,
        inputResponses: { 'input-1': { role: 'assistant', content: { type: 'text', text: 'late' }, model: 'm' } },
      }),
      headers('ask_sampling'),
    );
    assert.equal(r.json.error?.code, -32602, r.text);
    assert.match(r.json.error.message, /no longer waiting/);
  });

  it('cancels the upstream call with notifications/cancelled once the exchange is abandoned', async () => {
    // All three first: the gateway is closed only once no upstream call is left running.
    const cancelled = await Promise.all(TOOLS.map((tool) => recorder.next(tool, 'cancelled')));
    for (const e of cancelled) {
      // The upstream's own timeout would cancel it too, later and with reason "timeout".
      assert.match(String(e.detail), /did not retry/, `${e.tool} was cancelled by the abandonment, not by the request timeout`);
    }
  });
});
