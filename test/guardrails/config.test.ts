import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const SERVERS = 'mcp_servers:\n  s: { url: "http://127.0.0.1:9/mcp" }\n';

function errorsOf(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(SERVERS + yaml, 'config.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

describe('guardrails: config', () => {
  it("reads LiteLLM's shape: built-in detectors, content-filter patterns and words, a webhook", () => {
    const c = parseConfig(
      SERVERS +
        `
guardrails:
  - guardrail_name: secrets
    litellm_params: { guardrail: toolgate_secrets, mode: [pre_mcp_call, post_mcp_call], default_on: true }
  - guardrail_name: pii
    litellm_params: { guardrail: toolgate_pii, mode: post_mcp_call, action: mask, detectors: [email, iban] }
  - guardrail_name: filter
    litellm_params:
      guardrail: litellm_content_filter
      mode: pre_mcp_call
      patterns:
        - { pattern_type: prebuilt, pattern_name: us_ssn, action: BLOCK }
        - { pattern_type: regex, pattern: "TCK-\\\\d+", name: ticket, action: MASK }
        - "ignore previous instructions"
      blocked_words: [{ keyword: "rm -rf", action: BLOCK }]
  - guardrail_name: hook
    litellm_params: { guardrail: generic_guardrail_api, mode: during_mcp_call, api_base: "http://127.0.0.1:1/check", api_key: os.environ/HOOK_KEY, headers: { X-Tenant: os.environ/TENANT }, timeout: 2, unreachable_fallback: fail_open }
`,
      'config.yaml',
      { HOOK_KEY: 'hook-canary-key', TENANT: 'acme' },
    );
    const [secrets, pii, filter, hook] = c.guardrails!;
    assert.deepEqual(secrets!.modes, ['pre_mcp_call', 'post_mcp_call']);
    assert.equal(secrets!.defaultOn, true);
    assert.equal(secrets!.rules.length, 7);
    assert.deepEqual(
      pii!.rules.map((r) => [r.name, r.action]),
      [
        ['email', 'mask'],
        ['iban', 'mask'],
      ],
    );
    assert.deepEqual(
      filter!.rules.map((r) => [r.type, r.name, r.action]),
      [
        ['prebuilt', 'us_ssn', 'block'],
        ['regex', 'ticket', 'mask'],
        ['regex', 'pattern 3', 'block'],
        ['keyword', 'keyword', 'block'],
      ],
    );
    assert.deepEqual(hook!.webhook, {
      url: 'http://127.0.0.1:1/check',
      apiKey: 'hook-canary-key',
      headers: { 'x-tenant': 'acme' },
      timeoutMs: 2000,
      failOpen: true,
    });
  });

  it("passes LiteLLM's model-call guardrails silently (the same file may drive a LiteLLM proxy)", () => {
    const c = parseConfig(
      SERVERS +
        'guardrails:\n  - guardrail_name: presidio-llm\n    litellm_params: { guardrail: presidio, mode: [pre_call, post_call], output_parse_pii: true }\n',
      'config.yaml',
      {},
    );
    assert.deepEqual(c.guardrails, []);
    assert.deepEqual(c.warnings, []);
  });

  it('names the field and the fix for each mistake, without the webhook key', () => {
    const errors = errorsOf(
      `
guardrails:
  - guardrail_name: a
    litellm_params: { guardrail: presidio, mode: pre_mcp_call }
  - guardrail_name: b
    litellm_params: { guardrail: toolgate_regex, mode: before_call, patterns: ["(unclosed"] }
  - guardrail_name: c
    litellm_params: { guardrail: toolgate_secrets, mode: pre_mcp_call, action: redact, detectors: [github_token, passport] }
  - guardrail_name: d
    litellm_params: { guardrail: generic_guardrail_api, mode: post_mcp_call, api_base: "ftp://x", timeout: -1 }
  - guardrail_name: e
    litellm_params: { guardrail: toolgate_regex }
  - guardrail_name: b
    litellm_params: { guardrail: toolgate_pii, mode: pre_mcp_call }
`,
    );
    const text = errors.join('\n');
    assert.match(
      text,
      /guardrails\[0\]\.litellm_params\.guardrail: got "presidio"; Toolgate runs: toolgate_secrets, .*generic_guardrail_api/,
    );
    assert.match(text, /guardrails\[1\]\.litellm_params\.mode: got "before_call"; allowed: pre_mcp_call, during_mcp_call, post_mcp_call/);
    assert.match(text, /guardrails\[1\]\.litellm_params\.patterns\[0\]: is not a valid regular expression/);
    assert.match(text, /guardrails\[2\]\.litellm_params\.action: got "redact"; allowed: block, mask/);
    assert.match(text, /guardrails\[2\]\.litellm_params\.detectors\[1\]: got "passport"; built-in detectors: /);
    assert.match(text, /guardrails\[3\]\.litellm_params\.api_base: must be an absolute http/);
    assert.match(text, /guardrails\[3\]\.litellm_params\.timeout: must be a number of seconds/);
    assert.match(text, /guardrails\[4\]\.litellm_params\.mode: is required/);
    assert.match(text, /guardrails\[5\]\.guardrail_name: "b" is defined twice/);
    const missing = errorsOf(
      'guardrails:\n  - guardrail_name: w\n    litellm_params: { guardrail: generic_guardrail_api, mode: pre_mcp_call, api_base: "http://127.0.0.1:1", api_key: os.environ/NOPE_KEY }\n',
    );
    assert.match(missing.join('\n'), /api_key: environment variable NOPE_KEY is not set/);
    assert.match(errorsOf('guardrails: {a: 1}\n')[0]!, /guardrails: expected a list/);
  });

  it('reads pinned_tools (input_schema as inputSchema) and pin_tools on a server', () => {
    const c = parseConfig(
      `
mcp_servers:
  p:
    url: "http://127.0.0.1:9/mcp"
    pinned_tools: { add: { description: "Adds", input_schema: { type: object } } }
  q: { url: "http://127.0.0.1:9/mcp", pin_tools: true }
`,
      'config.yaml',
      {},
    );
    assert.deepEqual(c.servers[0]!.pinnedTools, { add: { description: 'Adds', inputSchema: { type: 'object' } } });
    assert.equal(c.servers[1]!.pinTools, true);
    assert.deepEqual(c.warnings, []);
    assert.throws(
      () =>
        parseConfig('mcp_servers:\n  p: { url: "http://127.0.0.1:9/mcp", pin_tools: yes-please, pinned_tools: [a] }\n', 'config.yaml', {}),
      (err: ConfigError) =>
        /mcp_servers\.p\.pin_tools: expected true or false/.test(err.message) && /mcp_servers\.p\.pinned_tools: /.test(err.message),
    );
  });
});
