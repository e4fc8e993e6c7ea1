import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';

const FILE = 'examples/x.yaml';
const CANARY = 'CANARY-s3cr3t-7f3a9c1e0b5d4a28';

/** Parses `yaml` expecting a ConfigError; checks every message names the file and never leaks the canary. */
function configError(yaml: string, env: Record<string, string> = {}): ConfigError {
  let caught: unknown;
  try {
    parseConfig(yaml, FILE, env);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  assert.ok(caught.issues.length > 0);
  for (const issue of caught.issues) assert.ok(issue.startsWith(`${FILE}: `), issue);
  assert.ok(!caught.message.includes(CANARY), `secret leaked: ${caught.message}`);
  assert.ok(!caught.message.includes(CANARY.slice(0, 12)), `secret prefix leaked: ${caught.message}`);
  return caught;
}

function assertIssue(err: ConfigError, ...parts: string[]): void {
  const hit = err.issues.find((issue) => parts.every((p) => issue.includes(p)));
  assert.ok(hit, `no issue containing ${JSON.stringify(parts)} in:\n${err.message}`);
}

const ALL_AUTH = 'none, api_key, bearer_token, basic, authorization, token, oauth2, aws_sigv4';

test('unknown auth_type names the key path and every allowed value, never the auth_value', () => {
  const err = configError(`mcp_servers:\n  github:\n    url: https://h.example/mcp\n    auth_type: bearer\n    auth_value: ${CANARY}\n`);
  assertIssue(err, 'mcp_servers.github.auth_type', '"bearer"', ALL_AUTH);
});

test('LiteLLM auth modes Toolgate lacks are refused as unsupported, not as typos', () => {
  const err = configError(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: oauth_delegate\n`);
  assertIssue(err, 'mcp_servers.s.auth_type', 'does not support yet', ALL_AUTH);
});

test('a value of the wrong type names the expected type', () => {
  const err = configError(`mcp_servers:\n  s:\n    command: npx\n    timeout: soon\n    args: npx\n    access_groups: {a: 1}\n`);
  assertIssue(err, 'mcp_servers.s.timeout', 'expected a number', '"soon"');
  assertIssue(err, 'mcp_servers.s.args', 'expected a list');
  assertIssue(err, 'mcp_servers.s.access_groups', 'expected a list');
});

test('a secret of the wrong type is described without its value', () => {
  const err = configError(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: api_key\n    auth_value: 73195482710364\n`);
  assertIssue(err, 'mcp_servers.s.auth_value', 'expected a string', 'a number');
  assert.ok(!err.message.includes('73195482710364'));
});

test('neither url nor command', () => {
  const err = configError(`mcp_servers:\n  empty:\n    description: nothing to reach\n`);
  assertIssue(err, 'mcp_servers.empty:', 'url', 'command');
});

test('bad transport lists the allowed transports', () => {
  const err = configError(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n    transport: websocket\n`);
  assertIssue(err, 'mcp_servers.s.transport', '"websocket"', 'http, sse, stdio');
});

test('transport stdio requires command; http and sse require url', () => {
  const err = configError(
    `mcp_servers:\n  a:\n    transport: stdio\n    url: https://h.example/mcp\n  b:\n    transport: sse\n    command: npx\n`,
  );
  assertIssue(err, 'mcp_servers.a.command', 'required when transport is stdio');
  assertIssue(err, 'mcp_servers.b.url', 'required when transport is sse', 'http://');
});

test('url must be http(s); credentials in it are not echoed', () => {
  const err = configError(`mcp_servers:\n  s:\n    url: ftp://user:${CANARY}@h.example/x?key=${CANARY}\n`);
  assertIssue(err, 'mcp_servers.s.url', 'http:// or https://', 'ftp://');
});

for (const type of ['api_key', 'bearer_token', 'basic', 'authorization', 'token']) {
  test(`auth_type ${type} without auth_value`, () => {
    const err = configError(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: ${type}\n`);
    assertIssue(err, 'mcp_servers.s.auth_value', `auth_type is ${type}`, 'os.environ/');
  });
}

test('server names unusable in a URL path or as a SEP-986 prefix are refused with a suggestion', () => {
  const long = 'x'.repeat(65);
  const err = configError(
    `mcp_servers:\n  "my server":\n    command: npx\n  "..":\n    command: npx\n  "a/b":\n    command: npx\n  ${long}:\n    command: npx\n`,
  );
  assertIssue(err, 'mcp_servers["my server"]', 'A-Z a-z 0-9 _ . -', '"my_server"');
  assertIssue(err, 'mcp_servers[".."]', 'not only dots');
  assertIssue(err, 'mcp_servers["a/b"]', '"a_b"');
  assertIssue(err, `mcp_servers.${long}`, '1-64');
  assert.equal(err.issues.length, 4);
});

test('names containing the separator are allowed', () => {
  const cfg = parseConfig(`mcp_servers:\n  github-copilot:\n    url: https://h.example/mcp\n  a.b_c:\n    command: npx\n`, FILE, {});
  assert.deepEqual(
    cfg.servers.map((s) => s.name),
    ['github-copilot', 'a.b_c'],
  );
});

test('oauth2 authorization_code is refused, naming the later release and the allowed flow', () => {
  const err = configError(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: oauth2\n    oauth2_flow: authorization_code\n    client_id: app\n    client_secret: ${CANARY}\n`,
  );
  assertIssue(err, 'mcp_servers.s.oauth2_flow', 'user identities', 'later', 'client_credentials');
});

test('oauth2 needs oauth2_flow, client_id and client_secret', () => {
  const err = configError(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: oauth2\n    token_url: not-a-url\n`);
  assertIssue(err, 'mcp_servers.s.oauth2_flow', 'required', 'client_credentials');
  assertIssue(err, 'mcp_servers.s.client_id', 'required');
  assertIssue(err, 'mcp_servers.s.client_secret', 'required');
  assertIssue(err, 'mcp_servers.s.token_url', 'http://');
});

test('aws_sigv4 needs a region and both halves of a key pair', () => {
  const err = configError(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: aws_sigv4\n    aws_secret_access_key: ${CANARY}\n`,
  );
  assertIssue(err, 'mcp_servers.s.aws_region_name', 'required');
  assertIssue(err, 'mcp_servers.s.aws_access_key_id', 'required together');
});

test('bad enum values in token_endpoint_auth_method and prefix_mode list what is allowed', () => {
  const err = configError(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    prefix_mode: sometimes\n    auth_type: oauth2\n    oauth2_flow: client_credentials\n    client_id: a\n    client_secret: b\n    token_endpoint_auth_method: private_key_jwt\n`,
  );
  assertIssue(err, 'mcp_servers.s.prefix_mode', 'always, conditional, never');
  assertIssue(err, 'mcp_servers.s.token_endpoint_auth_method', 'client_secret_post, client_secret_basic');
});

test('static header values may not break the header block, and header names must be tokens', () => {
  const err = configError(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    static_headers:\n      x-k: "${CANARY}\\r\\nx-evil: 1"\n      "bad name": v\n`,
  );
  assertIssue(err, 'mcp_servers.s.static_headers.x-k', 'line breaks');
  assertIssue(err, 'mcp_servers.s.static_headers["bad name"]', 'header name');
});

test('an auth value with a line break (trailing newline from a file) is refused without echoing it', () => {
  const err = configError(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: bearer_token\n    auth_value: os.environ/T\n`,
    { T: `${CANARY}\n` },
  );
  assertIssue(err, 'mcp_servers.s.auth_value', 'line break');
});

test('a missing environment variable names the variable and the key that needs it', () => {
  const err = configError(
    `mcp_servers:\n  github:\n    url: https://h.example/mcp\n    auth_type: bearer_token\n    auth_value: os.environ/GITHUB_TOKEN\n`,
  );
  assert.deepEqual(err.issues, [`${FILE}: mcp_servers.github.auth_value: environment variable GITHUB_TOKEN is not set`]);
});

test('missing variables are reported everywhere a secret can stand', () => {
  const err = configError(`
general_settings:
  master_key: os.environ/MK
toolgate_settings:
  state_secret: os.environ/SS
mcp_servers:
  s:
    command: node
    env: {TOKEN: os.environ/CHILD}
  h:
    url: https://h.example/mcp
    static_headers: {x-k: os.environ/HDR}
    auth_type: oauth2
    oauth2_flow: client_credentials
    client_id: os.environ/CID
    client_secret: os.environ/CSEC
`);
  for (const [path, name] of [
    ['general_settings.master_key', 'MK'],
    ['toolgate_settings.state_secret', 'SS'],
    ['mcp_servers.s.env.TOKEN', 'CHILD'],
    ['mcp_servers.h.static_headers.x-k', 'HDR'],
    ['mcp_servers.h.client_id', 'CID'],
    ['mcp_servers.h.client_secret', 'CSEC'],
  ]) {
    assertIssue(err, `${path}: environment variable ${name} is not set`);
  }
});

test('every problem is reported, not just the first', () => {
  const err = configError(
    `mcp_servers:\n  a:\n    url: https://h.example/mcp\n    auth_type: nope\n  b:\n    transport: grpc\n    url: https://h.example/mcp\n  c:\n    command: npx\n    timeout: 0\ntoolgate_settings:\n  max_tool_name_length: 500\n`,
  );
  assert.equal(err.issues.length, 4, err.message);
  assertIssue(err, 'toolgate_settings.max_tool_name_length', '1 and 128', '500');
  assertIssue(err, 'mcp_servers.c.timeout', 'greater than 0');
});

test('settings errors: short state_secret is masked, bad origin, bad separator', () => {
  const err = configError(
    `toolgate_settings:\n  state_secret: ${CANARY.slice(0, 20)}\n  allowed_origins: ["https://app.example/path"]\n  tool_prefix_separator: "/"\nmcp_servers:\n  s:\n    command: npx\n`,
  );
  assertIssue(err, 'toolgate_settings.state_secret', 'at least 32', '(20 chars)');
  assertIssue(err, 'toolgate_settings.allowed_origins[0]', 'scheme://host[:port]');
  assertIssue(err, 'toolgate_settings.tool_prefix_separator', 'A-Z a-z 0-9 _ . -');
});

test('an invalid MCP_TOOL_PREFIX_SEPARATOR is named as an environment variable', () => {
  const err = configError(`mcp_servers:\n  s:\n    command: npx\n`, { MCP_TOOL_PREFIX_SEPARATOR: '::' });
  assertIssue(err, 'environment variable MCP_TOOL_PREFIX_SEPARATOR', 'A-Z a-z 0-9 _ . -');
});

test('two servers with one tool-name prefix are refused', () => {
  const err = configError(`mcp_servers:\n  a:\n    command: npx\n  b:\n    command: npx\n    alias: a\n`);
  assertIssue(err, 'mcp_servers.b.alias', '"a"', 'server "a"');
});

test('mcp_servers written as a list is refused with the expected shape', () => {
  const err = configError(`mcp_servers:\n  - name: a\n    command: npx\n`);
  assertIssue(err, 'mcp_servers:', 'mapping of server name');
});

test('unparseable YAML gives line and column but not the offending text', () => {
  const err = configError(`mcp_servers:\n  s:\n    auth_value: ${CANARY}: [\n`);
  assertIssue(err, 'invalid YAML', 'line 3, column');
});

test('duplicate keys are a YAML error', () => {
  const err = configError(`mcp_servers:\n  s:\n    command: a\n  s:\n    command: b\n`);
  assertIssue(err, 'invalid YAML', 'unique', 'line 4');
});

test('a missing file names the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-config-'));
  try {
    const file = join(dir, 'absent.yaml');
    assert.throws(
      () => loadConfig(file, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /absent\.yaml: file not found/);
        return true;
      },
    );
    assert.throws(() => loadConfig(dir, {}), /is a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors carry the warnings that often explain them', () => {
  const err = configError(`mcp_servers:\n  s:\n    urll: https://h.example/mcp\n`);
  assertIssue(err, 'mcp_servers.s:', 'neither is set');
  assert.match(err.message, /mcp_servers\.s\.urll: unknown key, ignored \(did you mean url\?\)/);
});
