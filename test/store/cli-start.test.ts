import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const CANARY_PASSWORD = 'tg-canary-dbpass-71c3e9a2';
const CONFIG =
  'mcp_servers:\n  github:\n    url: http://127.0.0.1:9/mcp\n    timeout: 1\ngeneral_settings:\n  master_key: sk-store-cli-master\n';
const run = promisify(execFile);

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra };
}

async function toolgate(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: env(extra) });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
}

/** Starts `toolgate start` and resolves once it listens. */
async function startServing(config: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', config, '--port', '0'], {
    cwd: ROOT,
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('toolgate listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  return child;
}

describe('toolgate start and the store', { concurrency: true }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolgate-store-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a second gateway on the same embedded data directory exits 1 with one line saying it is in use', async () => {
    const config = join(dir, 'shared.yaml');
    await writeFile(config, CONFIG);
    const first = await startServing(config);
    try {
      const second = await toolgate(['start', '--config', config, '--port', '0']);
      assert.equal(second.code, 1, second.stderr);
      const lines = second.stderr.trim().split('\n');
      assert.equal(lines.length, 1, second.stderr);
      assert.match(
        lines[0]!,
        /^toolgate: cannot open the store: the data directory .*\.toolgate is in use by another Toolgate \(process \d+\)/,
      );
      assert.match(lines[0]!, /DATABASE_URL/);
    } finally {
      const exited = once(first, 'exit');
      first.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
    }
  });

  it('an unreachable DATABASE_URL exits 1 with one line naming it, without its password', async () => {
    const config = join(dir, 'pg.yaml');
    await writeFile(config, CONFIG);
    // Port 9 (discard) is closed on 127.0.0.1: the connection is refused at once.
    const r = await toolgate(['start', '--config', config, '--port', '0'], {
      DATABASE_URL: `postgresql://toolgate:${CANARY_PASSWORD}@127.0.0.1:9/toolgate`,
    });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /cannot connect to PostgreSQL postgresql:\/\/toolgate:\*\*\*@127\.0\.0\.1:9\/toolgate/);
    assert.match(lines[0]!, /DATABASE_URL/);
    assert.ok(!r.stderr.includes(CANARY_PASSWORD));
  });
});
