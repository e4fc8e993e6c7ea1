import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { z } from 'zod';
import { everythingStdio, startEverything, type RunningEverything } from '../fixtures/everything.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../fixtures/scripted-upstream.js';
import { startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/** What a full-featured client declares: server-everything offers extra tools for each of these. */
const CAPABILITIES = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
const ROOTS = [{ uri: 'file:///tmp/toolgate-root', name: 'toolgate-root', _extra: 'kept' }];
/** Results are read through this schema so fields unknown to the SDK stay visible to the comparison. */
const RAW = z.looseObject({});

interface Seen {
  sampling: number;
  elicitation: number;
  roots: number;
}

function newClient(name: string, seen: Seen): Client {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: CAPABILITIES });
  client.setRequestHandler('sampling/createMessage', async (req) => {
    seen.sampling++;
    const last = req.params.messages.at(-1)?.content as { text?: string } | undefined;
    return { model: 'toolgate-test-model', role: 'assistant', content: { type: 'text', text: `sampled<${last?.text ?? ''}>` } };
  });
  client.setRequestHandler('elicitation/create', async () => {
    seen.elicitation++;
    return { action: 'accept', content: { name: 'Ada Lovelace' } };
  });
  client.setRequestHandler('roots/list', async () => {
    seen.roots++;
    return { roots: ROOTS };
  });
  return client;
}

function gatewayTransport(url: URL): Transport {
  return new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } });
}

/** Every item of a paginated listing, exactly as sent on the wire. */
async function listAll(client: Client, method: string, key: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = (await client.request({ method, params: cursor ? { cursor } : {} }, RAW)) as Record<string, unknown>;
    items.push(...(r[key] as unknown[]));
    cursor = typeof r.nextCursor === 'string' ? r.nextCursor : undefined;
    if (!cursor) return items;
  }
  throw new Error(`${method} did not end within 50 pages`);
}

const LISTINGS = [
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
] as const;

function names(items: unknown[]): string[] {
  return items.map((i) => String((i as { name?: string; uri?: string; uriTemplate?: string }).name ?? (i as { uri?: string }).uri)).sort();
}

/** The whole issue-2 client surface, through one gateway in front of one server-everything transport. */
function suite(transport: 'stdio' | 'streamableHttp' | 'sse'): void {
  describe(`server-everything over ${transport} through the gateway`, { timeout: 60_000 }, () => {
    let everything: RunningEverything | undefined;
    let gw: TestGateway;
    let direct: Client;
    let viaGateway: Client;
    const seenDirect: Seen = { sampling: 0, elicitation: 0, roots: 0 };
    const seen: Seen = { sampling: 0, elicitation: 0, roots: 0 };

    before(async () => {
      let serverYaml: string;
      let directTransport: Transport;
      if (transport === 'stdio') {
        const { command, args } = everythingStdio();
        serverYaml = `    transport: stdio\n    command: ${JSON.stringify(command)}\n    args: ${JSON.stringify(args)}\n`;
        directTransport = new StdioClientTransport({ command, args, stderr: 'ignore' });
      } else {
        everything = await startEverything(transport);
        serverYaml = `    url: ${everything.url}\n    transport: ${transport === 'sse' ? 'sse' : 'http'}\n`;
        directTransport =
          transport === 'sse'
            ? new SSEClientTransport(new URL(everything.url))
            : new StreamableHTTPClientTransport(new URL(everything.url));
      }
      gw = await startTestGateway(`mcp_servers:\n  everything:\n${serverYaml}    timeout: 20\n`);
      direct = newClient('toolgate-test', seenDirect);
      await direct.connect(directTransport);
      viaGateway = newClient('toolgate-test', seen);
      await viaGateway.connect(gatewayTransport(gw.mcpUrl('/mcp/everything')));
    });
    after(async () => {
      await viaGateway?.close();
      await direct?.close();
      await gw?.close();
      await everything?.stop();
    });

    it('initializes with the server identity and capabilities of a direct connection', () => {
      assert.deepEqual(viaGateway.getServerVersion(), direct.getServerVersion());
      assert.deepEqual(viaGateway.getServerCapabilities(), direct.getServerCapabilities());
      assert.equal(viaGateway.getInstructions(), direct.getInstructions());
    });

    it('lists the same tools, prompts, resources and templates as a direct connection, byte for byte', async () => {
      for (const [method, key] of LISTINGS) {
        const [mine, theirs] = await Promise.all([listAll(viaGateway, method, key), listAll(direct, method, key)]);
        assert.ok(theirs.length > 0, `${method} is empty directly`);
        assert.deepEqual(names(mine), names(theirs), `${method} names`);
        assert.deepEqual(mine, theirs, `${method} full JSON`);
      }
      // Tools offered only to clients declaring sampling/elicitation/roots prove the capabilities were mirrored.
      const tools = names(await listAll(viaGateway, 'tools/list', 'tools'));
      for (const t of ['trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']) assert.ok(tools.includes(t), t);
    });

    it('calls tools', async () => {
      assert.equal(textOf(await viaGateway.callTool({ name: 'echo', arguments: { message: 'hi there' } })), 'Echo: hi there');
      assert.match(textOf(await viaGateway.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } })), /\b42\b/);
    });

    it('gets prompts, reads resources and completes arguments like a direct connection', async () => {
      const prompt = { name: 'args-prompt', arguments: { city: 'Lyon', state: 'Rhone' } };
      assert.deepEqual(await viaGateway.getPrompt(prompt), await direct.getPrompt(prompt));
      const uri = 'demo://resource/dynamic/text/1';
      // The text names the second it was made; everything else must match exactly.
      const undated = (r: unknown) => JSON.parse(JSON.stringify(r).replace(/created at [^"]*/g, 'created at T'));
      assert.deepEqual(undated(await viaGateway.readResource({ uri })), undated(await direct.readResource({ uri })));
      const completion = await viaGateway.complete({
        ref: { type: 'ref/prompt', name: 'completable-prompt' },
        argument: { name: 'department', value: 'Eng' },
      });
      assert.deepEqual(completion.completion.values, ['Engineering']);
    });

    it('sets the log level and answers ping', async () => {
      assert.deepEqual(await viaGateway.setLoggingLevel('debug'), {});
      assert.deepEqual(await viaGateway.ping(), {});
    });

    it('relays a sampling round trip through the client', async () => {
      const before = seen.sampling;
      const r = await viaGateway.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'canary-prompt', maxTokens: 20 } });
      assert.equal(seen.sampling, before + 1);
      assert.match(textOf(r), /sampled<[^>]*canary-prompt>/);
      assert.match(textOf(r), /toolgate-test-model/);
    });

    it('relays an elicitation round trip through the client', async () => {
      const before = seen.elicitation;
      const r = await viaGateway.callTool({ name: 'trigger-elicitation-request', arguments: {} });
      assert.equal(seen.elicitation, before + 1);
      assert.match(textOf(r), /Ada Lovelace/);
    });

    it('relays roots/list to the client', async () => {
      const r = await viaGateway.callTool({ name: 'get-roots-list', arguments: {} });
      assert.ok(seen.roots > 0);
      assert.match(textOf(r), /file:\/\/\/tmp\/toolgate-root/);
    });

    it('relays progress notifications of a long-running tool', async () => {
      const progress: number[] = [];
      const r = await viaGateway.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        { onprogress: (p) => void progress.push(p.progress) },
      );
      assert.match(textOf(r), /Long running operation completed/);
      assert.deepEqual(progress, [1, 2, 3]);
    });

    it('aborting a call answers the client and leaves the session usable', async () => {
      const abort = new AbortController();
      const call = viaGateway.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } },
        { signal: abort.signal },
      );
      setTimeout(() => abort.abort('user gave up'), 200);
      await assert.rejects(call);
      assert.equal(textOf(await viaGateway.callTool({ name: 'echo', arguments: { message: 'after' } })), 'Echo: after');
    });

    it('serves the /{server}/mcp alias with the same server', async () => {
      const alias = new Client({ name: 'alias', version: '1.0.0' });
      await alias.connect(gatewayTransport(gw.mcpUrl('/everything/mcp')));
      try {
        assert.deepEqual(alias.getServerVersion(), direct.getServerVersion());
        assert.equal(textOf(await alias.callTool({ name: 'echo', arguments: { message: 'alias' } })), 'Echo: alias');
      } finally {
        await alias.close();
      }
    });
  });
}

suite('stdio');
suite('streamableHttp');
suite('sse');

describe('cancellation reaches the upstream', { timeout: 30_000 }, () => {
  let upstream: ScriptedUpstream;
  let gw: TestGateway;
  let client: Client;
  before(async () => {
    upstream = await startScriptedUpstream();
    gw = await startTestGateway(`mcp_servers:\n  scripted:\n    url: ${upstream.url}\n    timeout: 20\n`);
    client = new Client({ name: 'cancel', version: '1.0.0' });
    await client.connect(gatewayTransport(gw.mcpUrl('/mcp/scripted')));
  });
  after(async () => {
    await client?.close();
    await gw?.close();
    await upstream?.stop();
  });

  it('sends notifications/cancelled for the upstream request id when the client aborts', async () => {
    const abort = new AbortController();
    const call = client.callTool({ name: 'wait', arguments: {} }, { signal: abort.signal });
    await until(() => upstream.waits.length > 0, 'the call to reach the upstream');
    abort.abort('user gave up');
    await assert.rejects(call);
    await until(() => upstream.cancelled.length > 0, 'notifications/cancelled upstream');
    assert.equal(upstream.cancelled[0]!.requestId, upstream.waits[0]);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'still here' } })), 'Echo: still here');
  });
});
