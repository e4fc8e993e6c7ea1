import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TOOLGATE_VERSION } from '../../src/version.js';
import { MAIN, ROOT, toolgate } from '../helpers/cli.js';

const CANARY = 'tg-canary-cli-5e8a1f93c7';
const run = promisify(execFile);

const configsRunnable =
  'mcp_servers:\n  github:\n    url: http://127.0.0.1:9/mcp\n    timeout: 1\ngeneral_settings:\n  master_key: sk-cli-master\n';

describe('toolgate command', { concurrency: true }, () => {
  let dir: string;
  const files: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolgate-cli-'));
    const configs: Record<string, string> = {
      good:
        'mcp_servers:\n' +
        `  github:\n    url: http://127.0.0.1:9/mcp\n    auth_type: bearer_token\n    auth_value: ${CANARY}\n` +
        `  local:\n    transport: stdio\n    command: node\n    args: ["x.js"]\n    env:\n      TOKEN: ${CANARY}\n` +
        `general_settings:\n  master_key: sk-${CANARY}\n`,
      badAuth: `mcp_servers:\n  github:\n    url: http://127.0.0.1:9/mcp\n    auth_type: bogus\n    auth_value: ${CANARY}\n`,
      missingEnv:
        'mcp_servers:\n  github:\n    url: http://127.0.0.1:9/mcp\n    auth_type: bearer_token\n    auth_value: os.environ/TG_CLI_TEST_UNSET_VAR\n' +
        'general_settings:\n  master_key: sk-cli-master\n',
      runnable: configsRunnable,
    };
    for (const [name, text] of Object.entries(configs)) {
      files[name] = join(dir, `${name}.yaml`);
      await writeFile(files[name]!, text);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('check-config prints what it understood with secrets masked, exit 0', async () => {
    const r = await toolgate(['check-config', files.good!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /github/);
    assert.match(r.stdout, /bearer_token/);
    assert.match(r.stdout, /local/);
    assert.match(r.stdout, /TOKEN/);
    assert.ok(!(r.stdout + r.stderr).includes(CANARY), r.stdout);
  });

  it('a bad config exits non-zero naming the file, the key path, the value and what is allowed', async () => {
    for (const cmd of [
      ['check-config', files.badAuth!],
      ['start', '--config', files.badAuth!, '--port', '0'],
    ]) {
      const r = await toolgate(cmd);
      assert.notEqual(r.code, 0, cmd.join(' '));
      assert.ok(r.stderr.includes(files.badAuth!), r.stderr);
      assert.match(r.stderr, /mcp_servers\.github\.auth_type/);
      assert.match(r.stderr, /bogus/);
      assert.match(r.stderr, /bearer_token/);
      assert.ok(!(r.stdout + r.stderr).includes(CANARY));
    }
  });

  it('start with a missing environment variable exits non-zero naming it and the setting', async () => {
    const r = await toolgate(['start', '--config', files.missingEnv!, '--port', '0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TG_CLI_TEST_UNSET_VAR/);
    assert.match(r.stderr, /mcp_servers\.github/);
  });

  it('start without a master key, or on a busy port, exits non-zero saying why', async () => {
    const noKey = join(dir, 'nokey.yaml');
    await writeFile(noKey, 'mcp_servers:\n  github:\n    url: http://127.0.0.1:9/mcp\n');
    const r = await toolgate(['start', '--config', noKey, '--port', '0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /master key/);
    assert.match(r.stderr, /TOOLGATE_MASTER_KEY/);

    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    try {
      const port = String((busy.address() as AddressInfo).port);
      // Its own directory, so its own data directory: the SIGTERM test may hold runnable's store meanwhile.
      const busyConfig = join(await mkdtemp(join(dir, 'busy-')), 'config.yaml');
      await writeFile(busyConfig, configsRunnable);
      const b = await toolgate(['start', '--config', busyConfig, '--port', port]);
      assert.equal(b.code, 1);
      assert.match(b.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*already in use`));
      assert.doesNotMatch(b.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      busy.close();
    }
  });

  it('start serves until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', files.runnable!, '--port', '0'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout!.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d: string) => {
          out += d;
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
      });
      const res = await fetch(`${url}/health/liveliness`);
      assert.equal(res.status, 200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('the built dist/cli/main.js answers --version', async () => {
    const out = await mkdtemp(join(tmpdir(), 'toolgate-build-'));
    try {
      // The same compilation as `npm run build`, into a scratch directory that resolves the project's modules.
      await run(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(out, 'dist')],
        { cwd: ROOT },
      );
      await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
      await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'));
      const { stdout } = await run(process.execPath, [join(out, 'dist/cli/main.js'), '--version']);
      assert.equal(stdout.trim(), TOOLGATE_VERSION);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
