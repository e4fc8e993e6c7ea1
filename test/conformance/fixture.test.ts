import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startConformanceServer, type RunningConformanceServer } from '../fixtures/conformance-server.js';

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

function clientWithHandlers(seen: string[], mode?: { pin: string }): Client {
  const client = new Client(
    { name: 'fixture-test', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } }, ...(mode ? { versionNegotiation: { mode } } : {}) },
  );
  client.setRequestHandler('sampling/createMessage', async (req) => {
    seen.push('sampling');
    const last = req.params.messages.at(-1)?.content as { text?: string } | undefined;
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `sampled<${last?.text ?? ''}>` } };
  });
  client.setRequestHandler('elicitation/create', async () => {
    seen.push('elicitation');
    return { action: 'accept', content: { name: 'Ada' } };
  });
  return client;
}

function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    );
  });
}

describe('conformance fixture server', () => {
  let fixture: RunningConformanceServer;
  before(async () => {
    fixture = await startConformanceServer();
  });
  after(async () => {
    await fixture.stop();
  });

  it('serves a 2025 session whose tool really asks the client to sample', async () => {
    const seen: string[] = [];
    const client = clientWithHandlers(seen);
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
      assert.equal(textOf(result), 'LLM response: sampled<hi>');
      assert.deepEqual(seen, ['sampling']);
    } finally {
      await client.close();
    }
  });

  it('serves a 2026-07-28 client with input_required rounds on the same URL', async () => {
    const seen: string[] = [];
    const client = clientWithHandlers(seen, { pin: '2026-07-28' });
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const result = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
      assert.equal(textOf(result), 'Hello, Ada!');
      assert.deepEqual(seen, ['elicitation']);
    } finally {
      await client.close();
    }
  });

  it('refuses a foreign Host header and accepts its own', async () => {
    assert.equal(await statusWithHost(fixture.url, 'evil.example.com'), 403);
    assert.equal(await statusWithHost(fixture.url, new URL(fixture.url).host), 200);
  });
});
