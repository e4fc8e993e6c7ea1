import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAccess, type AccessServer } from '../../src/caller/grants.js';

const server = (name: string, accessGroups: string[] = [], allowAllKeys = false): AccessServer => ({ name, accessGroups, allowAllKeys });
const sorted = (s: ReadonlySet<string> | undefined) => (s ? [...s].sort() : undefined);

test('LiteLLM #33397: a server named only in mcp_tool_permissions is not granted, so removing it from mcp_servers revokes it', () => {
  const servers = [server('opslevel'), server('notion')];
  const access = computeAccess(
    { key: { mcp_servers: ['opslevel'], mcp_tool_permissions: { opslevel: ['list'], notion: ['API-get-self'] } } },
    servers,
  );
  assert.deepEqual(sorted(access.servers), ['opslevel']);
  assert.equal(access.tools?.has('notion'), false, 'no tool entry for a server the key may not use');
  assert.deepEqual(sorted(access.tools?.get('opslevel')), ['list']);
  // With least privilege on, a stale tool-permission entry still grants nothing.
  const strict = computeAccess({ key: { mcp_tool_permissions: { notion: ['API-get-self'] } } }, servers, {
    requireKeyAccessDefined: true,
    defaultDeny: false,
  });
  assert.deepEqual(sorted(strict.servers), []);
});

test('LiteLLM #21954: a granted server with tool permissions is visible with exactly those tools', () => {
  const servers = [server('public_mcp_server', [], true), server('private_mcp_server')];
  // The key: no mcp_servers, tool permissions for the private server, no team: no list anywhere, so
  // every server is open (LiteLLM's default) and the private one shows only tool_a and tool_b.
  const open = computeAccess({ key: { mcp_servers: [], mcp_tool_permissions: { private_mcp_server: ['tool_a', 'tool_b'] } } }, servers);
  assert.equal(open.servers, undefined);
  assert.deepEqual(sorted(open.tools?.get('private_mcp_server')), ['tool_a', 'tool_b']);
  // Granted explicitly: both servers (the public one through allow_all_keys), the private one restricted.
  const listed = computeAccess(
    { key: { mcp_servers: ['private_mcp_server'], mcp_tool_permissions: { private_mcp_server: ['tool_a', 'tool_b'] } } },
    servers,
  );
  assert.deepEqual(sorted(listed.servers), ['private_mcp_server', 'public_mcp_server']);
  assert.deepEqual(sorted(listed.tools?.get('private_mcp_server')), ['tool_a', 'tool_b']);
});

test("LiteLLM #27657: a virtual key with no list of its own gets its team's access groups", () => {
  const servers = [server('github', ['eng']), server('jira', ['eng']), server('payroll', ['hr'])];
  const access = computeAccess({ key: {}, team: { mcp_access_groups: ['eng'] } }, servers);
  assert.deepEqual(sorted(access.servers), ['github', 'jira']);
});

test('LiteLLM #13613: a team access group passes down to keys; the same group on the key gives every server in it', () => {
  const servers = [server('test', ['staff']), server('test2', ['staff', 'Ops'])];
  const team = { mcp_access_groups: ['staff'] };
  assert.deepEqual(sorted(computeAccess({ key: {}, team }, servers).servers), ['test', 'test2']);
  assert.deepEqual(sorted(computeAccess({ key: { mcp_access_groups: ['staff'] }, team }, servers).servers), ['test', 'test2']);
  assert.deepEqual(sorted(computeAccess({ key: { mcp_access_groups: ['Ops'] }, team }, servers).servers), ['test2']);
});

test('the named rules, one case each', () => {
  const servers = [server('a', ['g']), server('b', ['g']), server('c'), server('pub', [], true)];
  const names = (levels: Parameters<typeof computeAccess>[0], rules?: Parameters<typeof computeAccess>[2]) =>
    sorted(computeAccess(levels, servers, rules).servers);
  // no list anywhere: every server, and the unrestricted fingerprint
  assert.equal(computeAccess({ key: {} }, servers).fingerprint, 'all');
  // Toolgate's deny default: only allow_all_keys servers
  assert.deepEqual(names({ key: {} }, { requireKeyAccessDefined: false, defaultDeny: true }), ['pub']);
  // empty key list inherits the team's; with require_key_mcp_access_defined it gets nothing but pub
  assert.deepEqual(names({ key: {}, team: { mcp_servers: ['a', 'c'] } }), ['a', 'c', 'pub']);
  assert.deepEqual(names({ key: {}, team: { mcp_servers: ['a', 'c'] } }, { requireKeyAccessDefined: true, defaultDeny: false }), ['pub']);
  // both listed: intersection
  assert.deepEqual(names({ key: { mcp_servers: ['a', 'b'] }, team: { mcp_servers: ['b', 'c'] } }), ['b', 'pub']);
  // organization caps, and alone becomes the result
  assert.deepEqual(names({ key: { mcp_access_groups: ['g'] }, organization: { mcp_servers: ['a'] } }), ['a', 'pub']);
  assert.deepEqual(names({ key: {}, organization: { mcp_servers: ['c'] } }), ['c', 'pub']);
  // no-mcp-servers denies everything, allow_all_keys included
  assert.deepEqual(names({ key: { mcp_servers: ['no-mcp-servers'] } }), []);
  assert.deepEqual(names({ key: { mcp_servers: ['a'] }, team: { mcp_servers: ['no-mcp-servers'] } }), []);
  // explicit all-team-mcpservers satisfies require_key_mcp_access_defined
  assert.deepEqual(
    names(
      { key: { mcp_servers: ['all-team-mcpservers'] }, team: { mcp_servers: ['c'] } },
      { requireKeyAccessDefined: true, defaultDeny: false },
    ),
    ['c', 'pub'],
  );
  // tool permissions intersect across levels
  const t = computeAccess({ key: { mcp_tool_permissions: { a: ['x', 'y'] } }, team: { mcp_tool_permissions: { a: ['y', 'z'] } } }, servers);
  assert.deepEqual(sorted(t.tools?.get('a')), ['y']);
});
