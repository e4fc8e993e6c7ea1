import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../fixtures/everything.js';
import { EVERYTHING_STDIO, rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Two replicas with one state secret: a bridged call (2026 client, 2025 upstream) started on one
// is resumed by a retry that the load balancer sent to the other.
const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SECRET = 'replica-test-secret-0123456789abcdef';

function call(id: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hi', maxTokens: 5 },
      ...extra,
      _meta: { [PV]: '2026-07-28', [CAPS]: { sampling: {} } },
    },
  });
}
const HEADERS = {
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'trigger-sampling-request',
  accept: 'application/json',
};

describe('a bridged call resumed through another replica', () => {
  const gws: TestGateway[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const yaml = `mcp_servers:\n  everything:${EVERYTHING_STDIO}\ntoolgate_settings:\n  state_secret: ${SECRET}\n  replica_url: http://127.0.0.1:${port}\n`;
      gws.push(await startTestGateway(yaml, {}, port));
    }
  });
  after(async () => {
    for (const g of gws) await g.close();
  });

  async function interrupted(): Promise<{ state: string; key: string }> {
    const first = await rawPost(gws[0]!.mcpUrl('/mcp/everything'), call(1), HEADERS);
    assert.equal(first.json.result?.resultType, 'input_required', first.text);
    const [key] = Object.keys(first.json.result.inputRequests);
    return { state: first.json.result.requestState, key: key! };
  }

  it('forwards the retry to the replica holding the call, which completes it', async () => {
    const { state, key } = await interrupted();
    const answer = { role: 'assistant', content: { type: 'text', text: 'answered-on-replica-b' }, model: 'm' };
    const retry = await rawPost(
      gws[1]!.mcpUrl('/mcp/everything'),
      call(2, { inputResponses: { [key]: answer }, requestState: state }),
      HEADERS,
    );
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.id, 2);
    assert.match(JSON.stringify(retry.json.result), /answered-on-replica-b/);
  });

  it('does not forward a retry that was already forwarded once', async () => {
    const { state, key } = await interrupted();
    const retry = await rawPost(gws[1]!.mcpUrl('/mcp/everything'), call(3, { inputResponses: { [key]: {} }, requestState: state }), {
      ...HEADERS,
      'x-toolgate-forwarded': '1',
    });
    assert.equal(retry.json.error?.code, -32602, retry.text);
  });
});
