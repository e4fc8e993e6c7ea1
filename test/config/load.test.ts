import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/load.js';

const FILE = 'test.yaml';

test('defaults for a server and for every setting', () => {
  const cfg = parseConfig(`mcp_servers:\n  s:\n    url: https://h.example/mcp\n`, FILE, {});
  assert.equal(cfg.file, resolve(FILE));
  assert.equal(cfg.masterKey, undefined);
  assert.deepEqual(cfg.warnings, []);
  assert.deepEqual(cfg.servers, [
    {
      name: 's',
      alias: undefined,
      description: undefined,
      transport: 'http',
      url: 'https://h.example/mcp',
      command: undefined,
      args: [],
      env: {},
      auth: { type: 'none' },
      timeoutMs: 60_000,
      accessGroups: [],
      allowedTools: undefined,
      disallowedTools: undefined,
      extraHeaders: [],
      staticHeaders: {},
      toolNameToDisplayName: {},
      toolNameToDescription: {},
      prefixMode: undefined,
      instructions: undefined,
    },
  ]);
  assert.deepEqual(cfg.settings, {
    sessionTtlMs: 1_800_000,
    maxBodyBytes: 4 * 1024 * 1024,
    allowedOrigins: [],
    toolPrefixSeparator: '-',
    maxToolNameLength: 64,
    prefixMode: 'always',
    listingTimeoutMs: 10_000,
    catalogTtlMs: 300_000,
    stateSecret: undefined,
    requestStateTtlMs: 300_000,
    replicaUrl: undefined,
    maxSessionsPerUpstream: 100,
    maxUpstreamResponseBytes: 32 * 1024 * 1024,
    maxJsonDepth: 64,
    maxBatchSize: 50,
    streamBufferBytes: 4 * 1024 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    idleTimeoutMs: 65_000,
    maxConnections: 4096,
  });
});

test('every server field is read', () => {
  const cfg = parseConfig(
    `mcp_servers:
  gh:
    url: http://127.0.0.1:9/mcp
    transport: sse
    description: d
    alias: git
    instructions: use it
    timeout: 2.5
    access_groups: [dev, ops]
    allowed_tools: [a, b]
    disallowed_tools: [c]
    extra_headers: [X-Trace-Id]
    static_headers: {X-Version: 2, X-Name: n}
    tool_name_to_display_name: {a: A}
    tool_name_to_description: {a: does a}
    prefix_mode: never
`,
    FILE,
    {},
  );
  const s = cfg.servers[0];
  assert.equal(s.transport, 'sse');
  assert.equal(s.alias, 'git');
  assert.equal(s.instructions, 'use it');
  assert.equal(s.timeoutMs, 2500);
  assert.deepEqual(s.accessGroups, ['dev', 'ops']);
  assert.deepEqual(s.allowedTools, ['a', 'b']);
  assert.deepEqual(s.disallowedTools, ['c']);
  assert.deepEqual(s.extraHeaders, ['x-trace-id']);
  assert.deepEqual(s.staticHeaders, { 'x-version': '2', 'x-name': 'n' });
  assert.deepEqual(s.toolNameToDisplayName, { a: 'A' });
  assert.deepEqual(s.toolNameToDescription, { a: 'does a' });
  assert.equal(s.prefixMode, 'never');
});

test('transport is inferred: url means http, a bare command means stdio', () => {
  const cfg = parseConfig(
    `mcp_servers:\n  h:\n    url: https://h.example/mcp\n  c:\n    command: node\n    args: [server.js, 8080]\n    env: {PORT: 8080, DEBUG: true}\n`,
    FILE,
    {},
  );
  assert.equal(cfg.servers[0].transport, 'http');
  assert.deepEqual(
    {
      t: cfg.servers[1].transport,
      cmd: cfg.servers[1].command,
      args: cfg.servers[1].args,
      env: cfg.servers[1].env,
      url: cfg.servers[1].url,
    },
    { t: 'stdio', cmd: 'node', args: ['server.js', '8080'], env: { PORT: '8080', DEBUG: 'true' }, url: undefined },
  );
});

test('os.environ/ references resolve from the env argument everywhere a secret stands', () => {
  const env = {
    MK: 'sk-master',
    SS: 's'.repeat(32),
    TOK: 'tok',
    HDR: 'hv',
    CHILD: 'cv',
    CID: 'cid',
    CSEC: 'csec',
    AK: 'AKIA',
    SK: 'secret',
    ST: 'session',
    URL: 'https://resolved.example/mcp',
  };
  const cfg = parseConfig(
    `general_settings:
  master_key: os.environ/MK
toolgate_settings:
  state_secret: os.environ/SS
mcp_servers:
  a:
    url: os.environ/URL
    auth_type: bearer_token
    auth_value: os.environ/TOK
    static_headers: {x-h: os.environ/HDR}
  b:
    command: node
    env: {TOKEN: os.environ/CHILD}
  c:
    url: https://c.example/mcp
    auth_type: oauth2
    oauth2_flow: client_credentials
    client_id: os.environ/CID
    client_secret: os.environ/CSEC
    scopes: "read  write"
  d:
    url: https://d.example/mcp
    auth_type: aws_sigv4
    aws_region_name: eu-west-1
    aws_access_key_id: os.environ/AK
    aws_secret_access_key: os.environ/SK
    aws_session_token: os.environ/ST
`,
    FILE,
    env,
  );
  assert.equal(cfg.masterKey, 'sk-master');
  assert.equal(cfg.settings.stateSecret, env.SS);
  const [a, b, c, d] = cfg.servers;
  assert.equal(a.url, env.URL);
  assert.deepEqual(a.auth, { type: 'bearer_token', value: 'tok' });
  assert.deepEqual(a.staticHeaders, { 'x-h': 'hv' });
  assert.deepEqual(b.env, { TOKEN: 'cv' });
  assert.deepEqual(c.auth, {
    type: 'oauth2',
    flow: 'client_credentials',
    clientId: 'cid',
    clientSecret: 'csec',
    tokenUrl: undefined,
    scopes: ['read', 'write'],
    audience: undefined,
    tokenEndpointAuthMethod: 'client_secret_post',
  });
  assert.deepEqual(d.auth, {
    type: 'aws_sigv4',
    region: 'eu-west-1',
    service: 'bedrock-agentcore',
    accessKeyId: 'AKIA',
    secretAccessKey: 'secret',
    sessionToken: 'session',
    roleName: undefined,
    sessionName: undefined,
  });
});

test('authentication_token is an alias of auth_value', () => {
  const cfg = parseConfig(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: token\n    authentication_token: os.environ/T\n`,
    FILE,
    { T: 'abc' },
  );
  assert.deepEqual(cfg.servers[0].auth, { type: 'token', value: 'abc' });
});

test('MCP_TOOL_PREFIX_SEPARATOR replaces the default; toolgate_settings wins over it', () => {
  const yaml = `mcp_servers:\n  s:\n    command: npx\n`;
  assert.equal(parseConfig(yaml, FILE, { MCP_TOOL_PREFIX_SEPARATOR: '__' }).settings.toolPrefixSeparator, '__');
  const explicit = `${yaml}toolgate_settings:\n  tool_prefix_separator: "."\n`;
  assert.equal(parseConfig(explicit, FILE, { MCP_TOOL_PREFIX_SEPARATOR: '__' }).settings.toolPrefixSeparator, '.');
});

test('master key: config wins over TOOLGATE_MASTER_KEY, which wins over LITELLM_MASTER_KEY', () => {
  const servers = `mcp_servers:\n  s:\n    command: npx\n`;
  const env = { TOOLGATE_MASTER_KEY: 'sk-from-toolgate-env', LITELLM_MASTER_KEY: 'sk-from-litellm-env' };
  assert.equal(parseConfig(`${servers}general_settings:\n  master_key: sk-from-config\n`, FILE, env).masterKey, 'sk-from-config');
  assert.equal(parseConfig(servers, FILE, env).masterKey, 'sk-from-toolgate-env');
  assert.equal(parseConfig(servers, FILE, { LITELLM_MASTER_KEY: 'sk-l' }).masterKey, 'sk-l');
});

test('unknown keys warn with file, key path and the nearest known key', () => {
  const cfg = parseConfig(
    `mcp_servers:\n  s:\n    url: https://h.example/mcp\n    acess_groups: [a]\n    frobnicate: 1\ntoolgate_settings:\n  sesion_ttl_seconds: 5\nmystery_section: {}\n`,
    FILE,
    {},
  );
  assert.deepEqual(cfg.warnings, [
    `${FILE}: mystery_section: unknown key, ignored`,
    `${FILE}: toolgate_settings.sesion_ttl_seconds: unknown key, ignored (did you mean session_ttl_seconds?)`,
    `${FILE}: mcp_servers.s.acess_groups: unknown key, ignored (did you mean access_groups?)`,
    `${FILE}: mcp_servers.s.frobnicate: unknown key, ignored`,
  ]);
});

test('LiteLLM-only fields and sections are accepted silently', () => {
  const cfg = parseConfig(
    `model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o}
litellm_settings: {drop_params: true}
router_settings: {routing_strategy: simple-shuffle}
general_settings: {store_model_in_db: true, database_url: os.environ/NOT_SET_AND_NOT_READ}
guardrails: []
mcp_servers:
  s:
    url: https://h.example/mcp
    allow_all_keys: true
    available_on_public_internet: false
    mcp_info: {server_name: s, mcp_server_cost_info: {default_cost_per_query: 0.01}}
    allowed_params: {search: [q]}
    allow_sampling: true
    allow_elicitation: true
    max_concurrent_requests: 4
    spec_path: ./openapi.json
    env_vars: [{name: X, scope: user}]
    pinned_tools: {}
    authorization_url: https://auth.example/authorize
    client_private_key_path: /k.pem
    id_jag_idp_token_url: https://idp.example/token
`,
    FILE,
    {},
  );
  assert.deepEqual(cfg.warnings, []);
  assert.equal(cfg.servers.length, 1);
});

test('environment_variables feed os.environ/ references; the real environment wins', () => {
  const yaml = `environment_variables:\n  TOKEN: from-config\nmcp_servers:\n  s:\n    url: https://h.example/mcp\n    auth_type: api_key\n    auth_value: os.environ/TOKEN\n`;
  assert.deepEqual(parseConfig(yaml, FILE, {}).servers[0].auth, { type: 'api_key', value: 'from-config' });
  assert.deepEqual(parseConfig(yaml, FILE, { TOKEN: 'from-env' }).servers[0].auth, { type: 'api_key', value: 'from-env' });
});

test('litellm_settings.mcp_aliases sets the first alias of a server without one', () => {
  const cfg = parseConfig(
    `litellm_settings:\n  mcp_aliases: {gh: github, hub: github, other: nope}\nmcp_servers:\n  github:\n    url: https://h.example/mcp\n`,
    FILE,
    {},
  );
  assert.equal(cfg.servers[0].alias, 'gh');
  assert.deepEqual(cfg.warnings, [`${FILE}: litellm_settings.mcp_aliases.other: names "nope", which is not a configured server`]);
});

test('YAML merge keys work as in PyYAML', () => {
  const cfg = parseConfig(
    `x-common: &common\n  timeout: 5\n  access_groups: [shared]\nmcp_servers:\n  s:\n    <<: *common\n    command: npx\n`,
    FILE,
    {},
  );
  assert.equal(cfg.servers[0].timeoutMs, 5000);
  assert.deepEqual(cfg.servers[0].accessGroups, ['shared']);
});

test('helpful warnings: auth_value without auth_type, url and command both set, basic without a colon', () => {
  const cfg = parseConfig(
    `mcp_servers:\n  a:\n    url: https://h.example/mcp\n    auth_value: x\n  b:\n    url: https://h.example/mcp\n    command: npx\n  c:\n    url: https://h.example/mcp\n    auth_type: basic\n    auth_value: dXNlcjpwYXNz\n`,
    FILE,
    {},
  );
  assert.equal(cfg.servers[1].transport, 'http');
  assert.equal(cfg.warnings.length, 3, cfg.warnings.join('\n'));
  assert.match(cfg.warnings[0], /mcp_servers\.a\.auth_value: is set but auth_type is not/);
  assert.match(cfg.warnings[1], /mcp_servers\.b\.command: ignored because url is set/);
  assert.match(cfg.warnings[2], /mcp_servers\.c\.auth_value: basic auth expects user:password/);
  assert.ok(!cfg.warnings.join('').includes('dXNlcjpwYXNz'));
});

test('an empty file is a gateway with no servers, and says so', () => {
  const cfg = parseConfig('', FILE, {});
  assert.deepEqual(cfg.servers, []);
  assert.deepEqual(cfg.warnings, [`${FILE}: mcp_servers: no servers configured; the gateway will serve no tools`]);
});

test('examples/config.yaml loads cleanly without any environment', () => {
  const cfg = loadConfig('examples/config.yaml', {});
  assert.deepEqual(cfg.warnings, []);
  assert.equal(cfg.masterKey, 'sk-toolgate-dev');
  assert.deepEqual(
    cfg.servers.map((s) => [s.name, s.transport, s.command, s.args]),
    [['everything', 'stdio', 'node', ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio']]],
  );
});

test('examples/full.yaml loads once its variables are set', () => {
  const names = [
    'GITHUB_TOKEN',
    'SEARCH_API_KEY',
    'SEARCH_CLIENT_SECRET',
    'WIKI_BASIC_CREDENTIALS',
    'TICKETS_TOKEN',
    'CRM_AUTHORIZATION_HEADER',
    'ANALYTICS_CLIENT_ID',
    'ANALYTICS_CLIENT_SECRET',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'EVERYTHING_DEMO_TOKEN',
    'TOOLGATE_MASTER_KEY',
    'TOOLGATE_STATE_SECRET',
  ];
  const env = Object.fromEntries(names.map((n) => [n, `sk-${n.toLowerCase()}-value-long-enough-for-a-state-secret:x`]));
  env.TOOLGATE_REPLICA_URL = 'http://10.0.0.5:4000';
  const cfg = loadConfig('examples/full.yaml', env);
  assert.deepEqual(cfg.warnings, []);
  assert.equal(cfg.settings.replicaUrl, 'http://10.0.0.5:4000');
  env.TOOLGATE_REPLICA_URL = 'http://10.0.0.5:4000/mcp';
  assert.throws(() => loadConfig('examples/full.yaml', env), /replica_url[\s\S]*no path/);
  const authTypes = new Set(cfg.servers.map((s) => s.auth.type));
  for (const t of ['none', 'api_key', 'bearer_token', 'basic', 'authorization', 'token', 'oauth2', 'aws_sigv4']) {
    assert.ok(authTypes.has(t as never), `full.yaml shows auth_type ${t}`);
  }
  assert.deepEqual([...new Set(cfg.servers.map((s) => s.transport))].sort(), ['http', 'sse', 'stdio']);
});
