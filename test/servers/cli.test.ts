import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uid } from '../admin/api.js';
import { toolgate } from '../helpers/cli.js';
import { TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { embeddedRun, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { startServersGateway } from './setup.js';

describe('toolgate servers add|list|show|update|remove|test against a running gateway', { timeout: 120_000 }, () => {
  let run: EngineRun;
  let store: Store;
  let gw: TestGateway;
  let upstream: HeaderRecorder;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    toolgate(['servers', ...args, '--url', gw.url], { TOOLGATE_MASTER_KEY: TEST_KEY, ...env });

  before(async () => {
    run = await embeddedRun();
    store = await run.open();
    gw = await startServersGateway(store);
    upstream = await startHeaderRecorder();
  });
  after(async () => {
    await gw?.close();
    await upstream?.stop();
    await store?.close();
    await run?.cleanup();
  });

  test('the whole life of a server, with its credential read from the environment', async () => {
    const name = 'cli_' + uid();
    const token = 'cli-token-' + uid() + uid();
    const added = await cli(
      [
        'add',
        name,
        '--upstream',
        upstream.url,
        '--auth-type',
        'bearer_token',
        '--auth-value-env',
        'MY_TOKEN',
        '--header',
        'x-team=blue',
        '--json',
      ],
      { MY_TOKEN: token },
    );
    assert.equal(added.code, 0, added.stderr);
    const made = JSON.parse(added.stdout);
    assert.equal(made.server_name, name);
    assert.ok(!added.stdout.includes(token));

    const listed = await cli(['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^SERVER_ID\s+SERVER_NAME\s+TRANSPORT/);
    assert.match(listed.stdout, new RegExp(`${made.server_id}\\s+${name}\\s+http\\s+${upstream.url.replace(/[.]/g, '\\.')}`));
    assert.match(listed.stdout, /from_config/);

    const shown = await cli(['show', name]);
    assert.match(shown.stdout, /healthy/);
    const tested = await cli(['test', name]);
    assert.equal(tested.code, 0, tested.stderr);
    assert.equal(tested.stdout, `${name}: healthy\n`);
    assert.equal(upstream.requests.at(-1)?.headers.authorization, `Bearer ${token}`);

    const updated = await cli(['update', name, '--description', 'from the CLI', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(JSON.parse(updated.stdout).description, 'from the CLI');

    const unsaved = await cli(['test', '--upstream', upstream.url]);
    assert.equal(unsaved.code, 0, unsaved.stderr);
    assert.match(unsaved.stdout, /^connection test: success/);
    const unreachable = await cli(['test', '--upstream', 'http://127.0.0.1:9/mcp']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /connection test failed/);

    const removed = await cli(['remove', made.server_id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`removed ${name}`));
    assert.equal(gw.registry.has(name), false);
  });

  test("the gateway's validation messages are printed as they are, with exit code 1", async () => {
    const bad = await cli(['add', 'bad_' + uid(), '--upstream', 'ftp://example.com/mcp']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /POST \/v1\/mcp\/server: 400 url: must be an absolute http:\/\/ or https:\/\/ URL \(got "ftp:\/\/example\.com\/mcp"\)/,
    );
    const shell = await cli(['add', 'sh_' + uid(), '--transport', 'stdio', '--command', 'bash', '--arg=-c', '--arg', 'id']);
    assert.equal(shell.code, 1);
    assert.match(shell.stderr, /command: stdio command "bash" is not allowed/);
    const down = await cli(['test', 'from_config']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /from_config: unhealthy/);
    const missing = await cli(['show', 'nope_' + uid()]);
    assert.match(missing.stderr, /404 MCP server not found/);
    const noEnv = await cli(['add', 'x_' + uid(), '--upstream', upstream.url, '--auth-value-env', 'UNSET_VAR_X']);
    assert.match(noEnv.stderr, /environment variable UNSET_VAR_X is not set/);
    const help = await cli(['--help']);
    assert.match(help.stdout, /Usage: toolgate servers add\|list\|show\|update\|remove\|test/);
  });
});
