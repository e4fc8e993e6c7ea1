import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStdioCommand, checkStdioEnv, stdioAllowList } from '../../src/upstream/stdio-policy.js';

describe('stdio command allow-list', () => {
  it("admits LiteLLM's default set", () => {
    for (const command of ['npx', 'uvx', 'python', 'python3', 'node', 'docker', 'deno'])
      assert.equal(checkStdioCommand(command, {}), undefined);
  });

  const refused: [string, RegExp][] = [
    ['bash', /"bash" is not allowed; allowed: npx, uvx, python, python3, node, docker, deno/],
    ['sh', /not allowed/],
    ['/bin/sh', /not allowed/],
    ['/tmp/evil/node', /not allowed/],
    ['./node', /not allowed/],
    ['bash -c', /shell metacharacters or spaces/],
    ['node;rm', /shell metacharacters/],
    ['npx|sh', /shell metacharacters/],
    ['$(curl)', /shell metacharacters/],
    ['`id`', /shell metacharacters/],
    ['node\n', /shell metacharacters/],
    ['', /must be a program name/],
  ];
  for (const [command, why] of refused) it(`refuses ${JSON.stringify(command)}`, () => assert.match(checkStdioCommand(command, {})!, why));

  it('refuses what is not a string', () => assert.match(checkStdioCommand(['node'], {})!, /must be a program name/));

  it('is extended by TOOLGATE_STDIO_EXTRA_COMMANDS and LITELLM_MCP_STDIO_EXTRA_COMMANDS (comma-separated, exact paths)', () => {
    const env = { TOOLGATE_STDIO_EXTRA_COMMANDS: 'bun, /opt/mcp/bin/server', LITELLM_MCP_STDIO_EXTRA_COMMANDS: 'pipx,bad;entry' };
    for (const command of ['bun', '/opt/mcp/bin/server', 'pipx', 'node']) assert.equal(checkStdioCommand(command, env), undefined, command);
    assert.match(checkStdioCommand('/opt/mcp/bin/other', env)!, /not allowed/);
    assert.match(checkStdioCommand('bad;entry', env)!, /shell metacharacters/);
    assert.deepEqual(stdioAllowList(env).slice(-3), ['bun', '/opt/mcp/bin/server', 'pipx']);
    assert.match(checkStdioCommand('bash', {})!, /TOOLGATE_STDIO_EXTRA_COMMANDS or LITELLM_MCP_STDIO_EXTRA_COMMANDS/);
  });
});

describe('stdio env names', () => {
  it('refuses the names that pick the program or what it loads, in any case', () => {
    for (const name of [
      'PATH',
      'path',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'DYLD_INSERT_LIBRARIES',
      'NODE_OPTIONS',
      'NODE_PATH',
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'BASH_ENV',
      'ENV',
      'PERL5LIB',
      'RUBYOPT',
      'JAVA_TOOL_OPTIONS',
    ])
      assert.equal(checkStdioEnv({ OK: '1', [name]: 'x' })?.name, name, name);
  });
  it('admits ordinary names', () => {
    assert.equal(checkStdioEnv({ GITHUB_TOKEN: 'x', HOME_DIR: 'y', ENVIRONMENT: 'prod' }), undefined);
    assert.equal(checkStdioEnv(undefined), undefined);
  });
});
