import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '../../src/caller/keys.js';
import { parseConfig } from '../../src/config/load.js';
import { PolicyStage } from '../../src/policy/stage.js';
import { ServerRegistry } from '../../src/registry/registry.js';
import { ScopeResolver } from '../../src/router/scope.js';
import type { Upstream } from '../../src/upstream/upstream.js';

const config = parseConfig(
  `
mcp_servers:
  github: { url: "http://127.0.0.1:9/g", access_groups: [dev] }
  jira: { url: "http://127.0.0.1:9/j", access_groups: [dev, pm] }
  wiki: { url: "http://127.0.0.1:9/w", access_groups: [pm] }
`,
  'scope.yaml',
  {},
);

function setup() {
  const registry = new ServerRegistry((c) => ({ name: c.name, config: c, close: async () => {} }) as unknown as Upstream);
  for (const s of config.servers) registry.add(s);
  const policy = new PolicyStage(registry, '-');
  return { registry, scopes: new ScopeResolver(registry, policy) };
}

const MASTER: Caller = { keyId: 'm', isMaster: true };
const JIRA_WIKI: Caller = { keyId: 'k', isMaster: false, access: { servers: new Set(['wiki', 'jira']), fingerprint: 'jw' } };
const NOTHING: Caller = { keyId: 'n', isMaster: false, access: { servers: new Set(), fingerprint: 'none' } };

describe('scope resolver: the selection intersected with what the caller may use', () => {
  const { registry, scopes } = setup();
  const resolve = (caller: Caller, path?: string, headers: Record<string, string> = {}, query?: string) =>
    scopes.resolve(caller, path, headers, query === undefined ? undefined : new URLSearchParams(query));

  it('nothing selected: every server the caller may use, in definition order, following the registry', () => {
    assert.deepEqual(resolve(MASTER), { ok: true, scope: { servers: ['github', 'jira', 'wiki'], aggregate: true, all: true } });
    assert.deepEqual(resolve(JIRA_WIKI), { ok: true, scope: { servers: ['jira', 'wiki'], aggregate: true, all: true } });
    assert.deepEqual(resolve(NOTHING), { ok: true, scope: { servers: [], aggregate: true, all: true } });
  });

  it('a server the caller may not use is unknown to it, by path, header or query; the 404 lists only its own', () => {
    for (const r of [
      resolve(JIRA_WIKI, 'github'),
      resolve(JIRA_WIKI, undefined, { 'x-mcp-servers': 'jira,github' }),
      resolve(JIRA_WIKI, undefined, {}, 'server=github'),
    ]) {
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.status, 404);
      assert.equal(r.message, 'Unknown MCP server or access group "github"; available servers: jira, wiki; access groups: dev, pm');
    }
    assert.deepEqual(resolve(MASTER, 'github'), { ok: true, scope: { servers: ['github'], aggregate: false } });
  });

  it('an access group never widens: it expands to the members the caller may use, and is unknown when none', () => {
    assert.deepEqual(resolve(JIRA_WIKI, 'dev'), { ok: true, scope: { servers: ['jira'], aggregate: true } });
    assert.deepEqual(resolve(MASTER, 'dev'), { ok: true, scope: { servers: ['github', 'jira'], aggregate: true } });
    const only: Caller = { keyId: 'w', isMaster: false, access: { servers: new Set(['wiki']), fingerprint: 'w' } };
    const r = resolve(only, 'dev');
    assert.ok(!r.ok && r.status === 404 && r.message.endsWith('available servers: wiki; access groups: pm'), JSON.stringify(r));
  });

  it('servers added and removed at runtime are selectable, then reported removed', async () => {
    registry.add(parseConfig(`mcp_servers:\n  slack: { url: "http://127.0.0.1:9/s" }`, 'x.yaml', {}).servers[0]!);
    assert.deepEqual(resolve(MASTER, 'slack'), { ok: true, scope: { servers: ['slack'], aggregate: false } });
    await registry.remove('slack');
    const r = resolve(MASTER, 'slack');
    assert.ok(!r.ok && r.status === 404 && /MCP server "slack" was removed from this gateway/.test(r.message), JSON.stringify(r));
    // ...but not to a caller that could never use it: to it, the name never existed.
    const r2 = resolve(JIRA_WIKI, 'slack');
    assert.ok(!r2.ok && /^Unknown MCP server or access group "slack"/.test(r2.message), JSON.stringify(r2));
  });
});
