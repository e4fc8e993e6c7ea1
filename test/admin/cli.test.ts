import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { ADMIN_CONFIG, uid } from './api.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

async function toolgate(args: string[], env: Record<string, string> = { TOOLGATE_MASTER_KEY: TEST_KEY }) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('toolgate keys|teams|orgs|users against a running gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(ADMIN_CONFIG);
  });
  after(() => gw.close());

  test('orgs, users, teams and keys: create, list, add-member, info, block, revoke; tables and --json', async () => {
    const url = ['--url', gw.url];
    const org = 'org-' + uid();
    assert.equal((await toolgate(['orgs', 'create', '--id', org, '--alias', 'Acme', '--servers', 'alpha,beta', ...url])).code, 0);
    const orgs = await toolgate(['orgs', 'list', ...url]);
    assert.match(orgs.stdout, /^ORGANIZATION_ID\s+ORGANIZATION_ALIAS/);
    assert.match(orgs.stdout, new RegExp(`${org}\\s+Acme`));

    const user = 'ana-' + uid();
    const u = await toolgate(['users', 'create', '--id', user, '--email', 'ana@example.com', '--no-key', '--json', ...url]);
    assert.equal(JSON.parse(u.stdout).user_id, user);
    assert.match((await toolgate(['users', 'list', ...url])).stdout, new RegExp(`${user}\\s+ana@example.com\\s+internal_user`));

    const team = 'team-' + uid();
    assert.equal((await toolgate(['teams', 'create', '--id', team, '--org', org, '--servers', 'alpha', ...url])).code, 0);
    const added = await toolgate(['teams', 'add-member', team, user, '--role', 'admin', '--json', ...url]);
    assert.deepEqual(JSON.parse(added.stdout).members_with_roles, [{ user_id: user, role: 'admin' }]);
    assert.match((await toolgate(['teams', 'list', ...url])).stdout, new RegExp(team));

    const created = await toolgate(['keys', 'create', '--alias', 'ci-bot', '--team', team, '--user', user, '--json', ...url]);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    const listed = await toolgate(['keys', 'list', '--team', team, ...url]);
    assert.match(listed.stdout, new RegExp(`sk-\\.\\.\\.${key.key.slice(-4)}\\s+ci-bot\\s+${team}`));
    assert.ok(!listed.stdout.includes(key.key));
    assert.equal(JSON.parse((await toolgate(['keys', 'info', key.token, '--json', ...url])).stdout).key_alias, 'ci-bot');
    assert.match((await toolgate(['keys', 'block', key.token, ...url])).stdout, /blocked sk-\.\.\./);
    assert.match((await toolgate(['keys', 'revoke', key.token, ...url])).stdout, /revoked 1 key/);

    // A refusal from the API: one line with LiteLLM's message, exit 1.
    const denied = await toolgate(['keys', 'create', '--team', team, '--servers', 'beta', ...url]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /403 Key requests MCP servers not allowed by team/);
  });

  test('no admin key, an unreachable gateway, unknown verbs and options: one line, no stack trace', async () => {
    const noKey = await toolgate(['keys', 'list', '--url', gw.url], {});
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /TOOLGATE_MASTER_KEY/);
    const down = await toolgate(['keys', 'list', '--url', 'http://127.0.0.1:9']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:9/);
    const verb = await toolgate(['keys', 'explode']);
    assert.equal(verb.code, 2);
    assert.match(verb.stderr, /unknown command "explode"/);
    const opt = await toolgate(['teams', 'create', '--colour', 'red']);
    assert.equal(opt.code, 2);
    assert.ok(!/\n\s+at /.test(opt.stderr), 'no stack trace');
    assert.equal((await toolgate(['users', '--help'])).code, 0);
    assert.match((await toolgate(['keys', 'create', '--help'])).stdout, /--duration/);
  });
});
