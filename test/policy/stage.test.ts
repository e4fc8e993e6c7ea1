import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallerAccess } from '../../src/caller/access.js';
import type { Caller } from '../../src/caller/keys.js';
import { ErrorCode, McpError } from '../../src/mcp/jsonrpc.js';
import { PolicyStage } from '../../src/policy/stage.js';
import type { Target, TargetKind } from '../../src/mcp/target.js';
import { server, source } from '../helpers/server-source.js';

const MASTER: Caller = { keyId: 'master:1', isMaster: true };
function caller(access: Omit<CallerAccess, 'fingerprint'>): Caller {
  return { keyId: 'k:' + JSON.stringify(access), isMaster: false, access: { ...access, fingerprint: 'f' + Math.random() } };
}

const KINDS: TargetKind[] = ['tool', 'prompt', 'resource', 'template', 'task'];

describe('policy stage', () => {
  const servers = source([
    server('open'),
    server('filtered', { allowedTools: ['read', 'write'], disallowedTools: ['write'] }),
    server('params', { allowedParams: { search: ['query', 'limit'] } }),
  ]);
  const policy = new PolicyStage(servers, '-');
  const restricted = caller({ servers: new Set(['open', 'filtered', 'params']), tools: new Map([['open', new Set(['a'])]]) });
  const narrow = caller({ servers: new Set(['open']) });
  const callers = [MASTER, restricted, narrow];
  const names = ['a', 'b', 'read', 'write', 'search', 'constructor', '__proto__'];

  it('visible in a listing exactly when admitted, for every kind, server, name and caller', () => {
    let checked = 0;
    for (const c of callers)
      for (const s of [...servers.names(), 'absent'])
        for (const kind of KINDS)
          for (const name of names) {
            const t: Target = { server: s, kind, name };
            assert.equal(policy.visible(c, t), policy.decide(c, t) === undefined, `${c.keyId} ${s} ${kind} ${name}`);
            const listed = policy.filter(c, s, kind, [{ [fieldOf(kind)]: name }]).length === 1;
            assert.equal(listed, policy.visible(c, t), `filter agrees with visible: ${s} ${kind} ${name}`);
            checked++;
          }
    assert.ok(checked > 300);
  });

  it('hides servers outside access.servers, for every kind, as unknown', () => {
    for (const kind of KINDS) {
      assert.equal(policy.visible(narrow, { server: 'filtered', kind, name: 'read' }), false);
      const err = policy.decide(narrow, { server: 'filtered', kind, name: 'read' });
      assert.ok(err instanceof McpError && err.code === ErrorCode.InvalidParams && /^Unknown /.test(err.message), String(err));
    }
    assert.equal(policy.serverVisible(narrow, 'open'), true);
    assert.equal(policy.serverVisible(MASTER, 'filtered'), true);
  });

  it('a tool outside access.tools is refused exactly as an unknown tool, with the name the client called', () => {
    assert.equal(policy.visible(restricted, { server: 'open', kind: 'tool', name: 'a' }), true);
    const err = policy.decide(restricted, { server: 'open', kind: 'tool', name: 'b' }, 'open-b');
    assert.equal(err?.message, 'Unknown tool "open-b"; list tools to see what this endpoint offers');
    // Other kinds of that server are not restricted by tool grants; other servers not by this one's.
    assert.equal(policy.visible(restricted, { server: 'open', kind: 'prompt', name: 'b' }), true);
    assert.equal(policy.visible(restricted, { server: 'params', kind: 'tool', name: 'b' }), true);
  });

  it("applies the server's allowed_tools then disallowed_tools to every caller", () => {
    assert.equal(policy.visible(MASTER, { server: 'filtered', kind: 'tool', name: 'read' }), true);
    assert.equal(policy.visible(MASTER, { server: 'filtered', kind: 'tool', name: 'write' }), false);
    assert.match(policy.decide(MASTER, { server: 'filtered', kind: 'tool', name: 'other' })!.message, /not allowed on server "filtered"/);
  });

  it('refuses arguments outside allowed_params, naming the parameters allowed; listing ignores arguments', () => {
    const t: Target = { server: 'params', kind: 'tool', name: 'search' };
    assert.equal(policy.decide(MASTER, { ...t, arguments: { query: 'x', limit: 3 } }), undefined);
    const err = policy.decide(MASTER, { ...t, arguments: { query: 'x', secret: 1, drop: 2 } });
    assert.ok(err);
    assert.equal(err.code, ErrorCode.InvalidParams);
    assert.equal(
      err.message,
      "Parameters ['secret', 'drop'] are not allowed for tool search. Allowed parameters: ['query', 'limit']. " +
        'Contact proxy admin to allow these parameters (allowed_params).',
    );
    assert.equal(policy.visible(MASTER, { ...t, arguments: { secret: 1 } }), true);
    // Prefixed and any-case forms of the tool key match, like allowed_tools.
    const prefixed = new PolicyStage(source([server('p', { allowedParams: { 'P-Search': ['q'] } })]), '-');
    assert.ok(prefixed.decide(MASTER, { server: 'p', kind: 'tool', name: 'search', arguments: { x: 1 } }));
    assert.equal(prefixed.decide(MASTER, { server: 'p', kind: 'tool', name: 'other', arguments: { x: 1 } }), undefined);
  });

  it('keeps the fast path: a server with no settings and a caller without grants on it relays untouched', () => {
    assert.equal(policy.untouched(MASTER, 'open'), true);
    assert.equal(policy.untouched(narrow, 'open'), true);
    assert.equal(policy.untouched(restricted, 'open'), false, 'tool grants on it');
    assert.equal(policy.untouched(MASTER, 'filtered'), false, 'server settings');
    assert.equal(policy.untouched(narrow, 'filtered'), false, 'not visible');
    const items = [{ name: 'a' }];
    assert.equal(policy.filter(MASTER, 'open', 'tool', items), items, 'the same array, not a copy');
  });

  it('follows the registry: a server changed or removed gets its new settings, or none', () => {
    const s = source([server('x')]);
    const p = new PolicyStage(s, '-');
    assert.equal(p.untouched(MASTER, 'x'), true);
    s.emit({
      type: 'changed',
      name: 'x',
      upstream: { name: 'x', config: server('x', { disallowedTools: ['t'] }) } as never,
      previous: {} as never,
    });
    assert.equal(p.visible(MASTER, { server: 'x', kind: 'tool', name: 't' }), false);
    s.emit({ type: 'removed', name: 'x', previous: {} as never });
    assert.equal(p.server('x'), undefined);
  });
});

function fieldOf(kind: TargetKind): string {
  return { tool: 'name', prompt: 'name', resource: 'uri', template: 'uriTemplate', task: 'taskId' }[kind];
}

describe('allowed_params in config.yaml', () => {
  it('is read per tool, and a malformed value is refused naming the key', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    const ok = parseConfig(
      'mcp_servers:\n  s:\n    url: http://127.0.0.1:9/mcp\n    allowed_params: { search: [q, limit] }\n',
      'p.yaml',
      {},
    );
    assert.deepEqual(ok.servers[0]!.allowedParams, { search: ['q', 'limit'] });
    assert.throws(
      () => parseConfig('mcp_servers:\n  s:\n    url: http://127.0.0.1:9/mcp\n    allowed_params: { search: q }\n', 'p.yaml', {}),
      /allowed_params/,
    );
  });
});

describe('ServerPolicy.allows', () => {
  it('decides exactly as toolAllowed (filters.ts) for every list shape, prefix and case', async () => {
    const { ServerPolicy } = await import('../../src/policy/server-policy.js');
    const { toolAllowed } = await import('../../src/policy/filters.js');
    const entries = ['read', 'READ', 'gh-read', 'GitHub-Write', 'github-x', 'other-read', 'w'];
    const tools = ['read', 'Read', 'write', 'x', 'w', 'gh-read', 'none'];
    let n = 0;
    for (let mask = 0; mask < 1 << entries.length; mask += 7)
      for (const alias of [undefined, 'gh'])
        for (const which of ['allow', 'deny', 'both'] as const) {
          const list = entries.filter((_, i) => mask & (1 << i));
          const cfg = server('github', {
            alias,
            allowedTools: which !== 'deny' ? list : undefined,
            disallowedTools: which !== 'allow' ? list.slice(1) : undefined,
            toolNameToDescription: { keep: 'x' },
          });
          const own = ServerPolicy.for(cfg, '-')!;
          for (const t of tools) {
            assert.equal(own.allows(t), toolAllowed(t, cfg, '-'), `${t} ${JSON.stringify(list)} ${which} ${alias}`);
            n++;
          }
        }
    assert.ok(n > 500);
  });
});
