import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.js';
import { describeConfig, maskSecret } from '../../src/config/describe.js';

const CANARY = 'CANARY-s3cr3t-7f3a9c1e0b5d4a28-9e6f';

test('maskSecret shows at most four characters and nothing of short values', () => {
  assert.equal(maskSecret('bearer-token-0123456789abcdef012'), 'bear…(32 chars)');
  assert.equal(maskSecret('short-key'), '…(9 chars)');
  assert.equal(maskSecret(''), '…(0 chars)');
});

test('describeConfig lists every server and setting with each credential masked', () => {
  const env = { C: CANARY };
  const cfg = parseConfig(
    `general_settings:
  master_key: os.environ/C
toolgate_settings:
  state_secret: os.environ/C
mcp_servers:
  bearer:
    url: https://user:${CANARY}@h.example/mcp?key=${CANARY}
    auth_type: bearer_token
    auth_value: os.environ/C
    static_headers: {x-secret: os.environ/C}
    access_groups: [dev, ops]
    timeout: 12
  basic:
    url: https://h.example/mcp
    auth_type: basic
    auth_value: "user:${CANARY}"
  oauth:
    url: https://h.example/mcp
    auth_type: oauth2
    oauth2_flow: client_credentials
    client_id: os.environ/C
    client_secret: os.environ/C
  aws:
    url: https://h.example/mcp
    auth_type: aws_sigv4
    aws_region_name: us-east-1
    aws_access_key_id: os.environ/C
    aws_secret_access_key: os.environ/C
    aws_session_token: os.environ/C
  child:
    command: node
    args: [server.js, --stdio]
    env: {TOKEN: os.environ/C}
`,
    'canary.yaml',
    env,
  );
  const text = describeConfig(cfg);
  assert.ok(!text.includes(CANARY.slice(0, 5)), text);
  assert.match(text, /Master key: CANA…\(35 chars\)/);
  assert.match(text, /bearer\n\s+transport: http {2}https:\/\/\*\*\*:\*\*\*@h\.example\/mcp\?…/);
  assert.match(text, /auth: bearer_token CANA…\(35 chars\)/);
  assert.match(text, /timeout: 12s/);
  assert.match(text, /access groups: dev, ops/);
  assert.match(text, /static headers: x-secret=CANA…\(35 chars\)/);
  assert.match(text, /auth: oauth2 client_credentials/);
  assert.match(text, /auth: aws_sigv4 region us-east-1/);
  assert.match(text, /transport: stdio {2}node server\.js --stdio/);
  assert.match(text, /env: TOKEN=CANA…\(35 chars\)/);
  assert.match(text, /state_secret: CANA…\(35 chars\)/);
  assert.match(text, /tool_prefix_separator: "-"/);
  assert.match(text, /Warnings \(1\):\n.*master_key: does not start with "sk-"/);
});

test('describeConfig reports warnings and a missing master key', () => {
  const cfg = parseConfig(`mcp_servers:\n  s:\n    command: npx\n    colour: blue\n`, 'w.yaml', {});
  const text = describeConfig(cfg);
  assert.match(text, /Master key: not set/);
  assert.match(text, /Warnings \(1\):\n\s+w\.yaml: mcp_servers\.s\.colour: unknown key, ignored/);
});
