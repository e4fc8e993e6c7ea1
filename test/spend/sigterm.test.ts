import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { MAIN, ROOT } from '../helpers/cli.js';
import { until, within } from '../helpers/within.js';
import { ENGINES, TEST_DATABASE_URL } from '../store/engines.js';

const MASTER = 'sk-spend-sigterm-master-0123';
const CLIENTS = 8;

/** `toolgate start` as a child; resolves with its URL once it listens. */
async function serve(config: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', config, '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: string) => {
        out += d;
        const m = /"url":"(http:\/\/[^"]+)".*toolgate listening/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
    }),
    'toolgate start to listen',
    30_000,
  );
  return { child, url };
}

for (const engine of ENGINES) {
  describe(`SIGTERM under load flushes every answered call's spend row, ${engine.name} store`, () => {
    let upstream: CatalogServer | undefined;
    after(() => upstream?.stop());

    it('one row for every answered call, read from the store after the child exited', async () => {
      const run = await engine.run();
      let config = '';
      try {
        upstream = await startCatalogServer({ name: 'paid', tools: [tool('cheap')] });
        config = join(await mkdtemp(join(tmpdir(), 'toolgate-sigterm-')), 'config.yaml');
        const dataDir = run.engine === 'embedded' ? run.where : undefined;
        await writeFile(
          config,
          `mcp_servers:\n  paid:\n    url: ${upstream.url}\n    mcp_info: { mcp_server_cost_info: { default_cost_per_query: 1 } }\n` +
            `general_settings:\n  master_key: ${MASTER}\n` +
            (dataDir ? `toolgate_settings:\n  data_dir: ${dataDir}\n` : ''),
        );
        const env: Record<string, string> = dataDir ? {} : { DATABASE_URL: `${TEST_DATABASE_URL}?schema=${run.where}` };
        const { child, url } = await serve(config, env);
        const exited = once(child, 'exit');
        let answered = 0;
        let stop = false;
        const clients: Client[] = [];
        for (let i = 0; i < CLIENTS; i++) {
          const c = new Client({ name: 'load', version: '1' });
          await c.connect(
            new StreamableHTTPClientTransport(new URL(url + '/mcp/paid'), {
              requestInit: { headers: { authorization: `Bearer ${MASTER}` } },
            }),
          );
          clients.push(c);
        }
        // Each client calls in a loop until the gateway stops answering.
        const loops = clients.map(async (c) => {
          while (!stop) {
            try {
              await c.callTool({ name: 'cheap', arguments: {} });
              answered++;
            } catch {
              return;
            }
          }
        });
        await until(() => answered >= 200, '200 answered calls under load', { ms: 30_000 });
        child.kill('SIGTERM');
        const [code] = await within(exited, 'the child to exit', 30_000);
        stop = true;
        await Promise.all(loops);
        for (const c of clients) await c.close().catch(() => {});
        assert.equal(code, 0, 'a clean shutdown');
        const store = await run.open();
        try {
          const [row] = await store.query<{ ok: string; all: string; spend: number }>(
            `SELECT count(*) FILTER (WHERE outcome = 'ok') AS ok, count(*) AS all FROM toolgate_spend_logs WHERE call_type = 'call_mcp_tool'`,
          );
          assert.ok(Number(row!.ok) >= answered, `rows ${row!.ok} for ${answered} answered calls`);
          // No row without a call: at most the answered ones plus those cut off in flight (one per client).
          assert.ok(Number(row!.all) <= answered + CLIENTS, `rows ${row!.all} for ${answered} answered calls`);
          assert.equal(upstream.calls.length >= Number(row!.ok), true);
        } finally {
          await store.close();
        }
      } finally {
        await run.cleanup();
        if (config) await rm(join(config, '..'), { recursive: true, force: true });
      }
    });
  });
}
