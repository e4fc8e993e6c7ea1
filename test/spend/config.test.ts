import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const FILE = 'spend.yaml';
const server = (mcpInfo: string) => `mcp_servers:\n  paid:\n    url: http://127.0.0.1:9/mcp\n    mcp_info: ${mcpInfo}\n`;

function issues(yaml: string): string[] {
  try {
    parseConfig(yaml, FILE, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('mcp_info.mcp_server_cost_info on config.yaml servers', () => {
  it('is read into the server as its prices; other mcp_info keys (LiteLLM descriptions) pass', () => {
    const c = parseConfig(
      server(
        '{ description: "shown in LiteLLM", mcp_server_cost_info: { default_cost_per_query: 0.01, tool_name_to_cost_per_query: { search: 0.2 } } }',
      ),
      FILE,
      {},
    );
    assert.deepEqual(c.servers[0]!.mcpInfo, { costInfo: { defaultCostPerQuery: 0.01, toolNameToCostPerQuery: { search: 0.2 } } });
    assert.deepEqual(c.warnings, []);
  });

  it('a server without it has no mcpInfo (free)', () => {
    const c = parseConfig(`mcp_servers:\n  free:\n    url: http://127.0.0.1:9/mcp\n`, FILE, {});
    assert.equal(c.servers[0]!.mcpInfo, undefined);
  });

  it('bad prices are errors naming the field path', () => {
    const found = issues(
      server('{ mcp_server_cost_info: { default_cost_per_query: -1, tool_name_to_cost_per_query: { search: "cheap" }, per_token: 1 } }'),
    );
    const has = (path: string, text: RegExp) =>
      assert.ok(
        found.some((i) => i.startsWith(`${FILE}: mcp_servers.paid.mcp_info.mcp_server_cost_info${path}`) && text.test(i)),
        `${path} in ${found.join('\n')}`,
      );
    has('.default_cost_per_query', /must be 0 or more/);
    has('.tool_name_to_cost_per_query.search', /expected a number/);
    has(':', /per_token/);
    assert.ok(issues(server('"free"')).some((i) => i.includes('mcp_servers.paid.mcp_info')));
  });
});
