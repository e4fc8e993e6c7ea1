import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { processStore, startTestGateway } from '../helpers/gateway.js';
import { StoreError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { Queryable, Store } from '../../src/store/types.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'toolgate-start-order-'));
  dirs.push(d);
  return d;
}

/** A minimal stdio MCP server that records its pid in `marker` first, and lives until its stdin closes. */
function recordingServer(marker: string): string {
  const script = [
    `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));`,
    `require('readline').createInterface({ input: process.stdin }).on('line', (line) => {`,
    `  const m = JSON.parse(line);`,
    `  if (m.id === undefined) return;`,
    `  const result = m.method === 'initialize'`,
    `    ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'recorder', version: '1' } }`,
    `    : m.method === 'tools/list' ? { tools: [] } : {};`,
    `  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\\n');`,
    `});`,
  ].join('\n');
  return stringify({ mcp_servers: { recorder: { command: process.execPath, args: ['-e', script], transport: 'stdio' } } });
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('start order: config servers warm while the store opens', () => {
  it('a config stdio server is spawned before the store has answered its first query', async () => {
    const marker = join(tempDir(), 'pid');
    const real = await processStore();
    let spawnedFirst: boolean | undefined;
    // The store answers only once the server has been spawned (or after 10 s, and then the test fails).
    const gate = (async () => {
      spawnedFirst = await until(() => existsSync(marker), 10_000);
    })();
    const gated: Store = {
      engine: real.engine,
      query: (async (sql: string, params?: unknown[]) => (await gate, real.query(sql, params))) as Queryable['query'],
      transaction: async (fn) => (await gate, real.transaction(fn)),
      publish: async (c) => (await gate, real.publish(c)),
      onChange: (l) => real.onChange(l),
      close: async () => {},
    };
    const gw = await startTestGateway(recordingServer(marker), {}, 0, { store: gated });
    try {
      assert.equal(spawnedFirst, true, 'the stdio server was not spawned before the store was read');
    } finally {
      await gw.close();
    }
    const pid = Number(readFileSync(marker, 'utf8'));
    assert.ok(await until(() => !alive(pid), 5_000), 'the stdio server outlived the gateway');
  });

  it('a store that cannot open stops the start, and the config servers already started go with it', async () => {
    const dataDir = tempDir();
    const marker = join(tempDir(), 'pid');
    const holder = await openStore({ dataDir });
    try {
      const yaml = recordingServer(marker) + stringify({ toolgate_settings: { data_dir: dataDir } });
      await assert.rejects(startTestGateway(yaml), (err: unknown) => err instanceof StoreError && /in use/.test(err.message));
      // The child may have been stopped before it ran at all; if it did run, it must not outlive the failed start.
      if (await until(() => existsSync(marker), 1_000)) {
        const pid = Number(readFileSync(marker, 'utf8'));
        assert.ok(await until(() => !alive(pid), 5_000), 'the stdio server outlived the failed start');
      }
    } finally {
      await holder.close();
    }
  });

  it('a start that fails after the store opened (the port is taken) releases the store, so a later start opens it', async () => {
    const dataDir = tempDir();
    const yaml = stringify({ toolgate_settings: { data_dir: dataDir } });
    const first = await startTestGateway(yaml);
    const taken = Number(new URL(first.url).port);
    const other = tempDir();
    try {
      await assert.rejects(startTestGateway(stringify({ toolgate_settings: { data_dir: other } }), {}, taken), /EADDRINUSE/);
      // Had the failed start kept its store open, its lock on `other` would refuse this one.
      const again = await openStore({ dataDir: other });
      await again.close();
    } finally {
      await first.close();
    }
  });
});
