import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { toolgate } from '../helpers/cli.js';
import { EVERYTHING_STDIO, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { within } from '../helpers/within.js';

const YAML = `mcp_servers:\n  everything:${EVERYTHING_STDIO}\n`;

/**
 * `toolgate bridge` as Claude Desktop runs it: the entry `toolgate connect claude-desktop` writes,
 * started by the SDK's stdio client from an unrelated directory, with the key in its environment.
 */
describe('toolgate bridge (stdio to Streamable HTTP)', () => {
  let gw: TestGateway;
  let dir: string;
  let entry: { command: string; args: string[] };
  let port: number;

  before(async () => {
    gw = await startTestGateway(YAML);
    port = Number(new URL(gw.url).port);
    dir = await mkdtemp(join(tmpdir(), 'toolgate-bridge-'));
    const file = join(dir, 'claude_desktop_config.json');
    const r = await toolgate(['connect', 'claude-desktop', '--url', gw.url, '--server', 'everything', '--write', '--file', file]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: Record<string, typeof entry & { env?: unknown }> };
    const written = config.mcpServers.toolgate!;
    assert.equal(written.env, undefined, 'no key in the file without --inline-key');
    entry = written;
  });
  after(async () => {
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function stdioClient(mode: 'legacy' | { pin: '2026-07-28' }): Promise<{ client: Client; sampled: string[] }> {
    const sampled: string[] = [];
    const client = new Client({ name: 'bridge-test', version: '1.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode } });
    client.setRequestHandler('sampling/createMessage', async (req) => {
      const text = JSON.stringify(req.params.messages);
      sampled.push(text);
      return { model: 'bridge-model', role: 'assistant', content: { type: 'text', text: 'sampled-through-bridge' } };
    });
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', TOOLGATE_API_KEY: TEST_KEY },
      stderr: 'ignore',
    });
    // A hang guard, not a timing check: under a loaded full suite the child's tsx start can take a while.
    try {
      await within(client.connect(transport), 'the bridge to connect', 90_000);
    } catch (err) {
      await transport.close(); // never leave the bridge child running: it would keep the test process alive
      throw err;
    }
    return { client, sampled };
  }

  for (const mode of ['legacy', { pin: '2026-07-28' }] as const) {
    const era = mode === 'legacy' ? '2025-11-25' : '2026-07-28';
    it(`${era}: lists, calls, relays progress and a sampling round trip`, async () => {
      const { client, sampled } = await stdioClient(mode);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), era);
        const tools = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(tools.includes('echo'), tools.join(','));
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'via bridge' } })), 'Echo: via bridge');
        const progress: number[] = [];
        await client.callTool(
          { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } },
          { onprogress: (p) => void progress.push(p.progress) },
        );
        // Progress relays; the last step can land after the result on a loaded machine, so only the first is required.
        assert.equal(progress[0], 1, JSON.stringify(progress));
        const r = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'bridge-canary', maxTokens: 10 } });
        assert.equal(sampled.length, 1);
        assert.match(sampled[0]!, /bridge-canary/);
        assert.match(textOf(r), /sampled-through-bridge/);
      } finally {
        await client.close();
      }
    });
  }

  it('reconnects when the gateway restarts (same port, sessions gone)', async () => {
    const { client } = await stdioClient('legacy');
    try {
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'before' } })), 'Echo: before');
      await gw.close();
      gw = await startTestGateway(YAML, {}, port);
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'after' } })), 'Echo: after');
    } finally {
      await client.close();
    }
  });
});
