import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyToolOverrides, originalToolName, reverseDisplayNames, toolAllowed } from '../../src/policy/filters.js';

describe('toolAllowed', () => {
  const base = { name: 'github' };

  it('allows everything without lists, and treats empty lists as unset', () => {
    assert.ok(toolAllowed('anything', base, '-'));
    assert.ok(toolAllowed('anything', { ...base, allowedTools: [], disallowedTools: [] }, '-'));
  });

  it('allow list: only listed tools pass, with or without prefix, case-insensitively', () => {
    const server = { ...base, allowedTools: ['Create_Issue', 'GITHUB-search'] };
    assert.ok(toolAllowed('create_issue', server, '-'));
    assert.ok(toolAllowed('search', server, '-'));
    assert.ok(!toolAllowed('delete_repo', server, '-'));
  });

  it('deny list: listed tools are refused, with or without prefix, case-insensitively', () => {
    const server = { ...base, disallowedTools: ['DELETE_REPO', 'github-Force_Push'] };
    assert.ok(!toolAllowed('delete_repo', server, '-'));
    assert.ok(!toolAllowed('force_push', server, '-'));
    assert.ok(toolAllowed('search', server, '-'));
  });

  it('applies the allow list first, then the deny list to what remains', () => {
    const server = { ...base, allowedTools: ['search', 'delete_repo'], disallowedTools: ['delete_repo'] };
    assert.ok(toolAllowed('search', server, '-'));
    assert.ok(!toolAllowed('delete_repo', server, '-'));
    assert.ok(!toolAllowed('create_issue', server, '-'));
  });

  it('matches the alias prefix and the name prefix, with the configured separator', () => {
    const server = { name: 'github-enterprise', alias: 'ghe', allowedTools: ['ghe__search', 'github-enterprise__list'] };
    assert.ok(toolAllowed('search', server, '__'));
    assert.ok(toolAllowed('list', server, '__'));
    assert.ok(!toolAllowed('search', server, '-'));
  });

  it("does not match another server's prefix or a partial name", () => {
    const server = { ...base, allowedTools: ['gitlab-search', 'sear'] };
    assert.ok(!toolAllowed('search', server, '-'));
  });
});

describe('applyToolOverrides', () => {
  const tool = Object.freeze({
    name: 'create_issue',
    description: 'Create an issue',
    inputSchema: { type: 'object' },
    _meta: { x: 1 },
    futureField: [1, 2],
  });

  it('replaces name and description, keeps every other field, does not mutate', () => {
    const out = applyToolOverrides(tool, { create_issue: 'new_ticket' }, { create_issue: 'File a ticket' });
    assert.deepEqual(out, { ...tool, name: 'new_ticket', description: 'File a ticket' });
    assert.equal(out.inputSchema, tool.inputSchema);
    assert.equal(tool.name, 'create_issue');
  });

  it('returns an equal copy when no override applies, and ignores inherited keys', () => {
    const out = applyToolOverrides(tool, {}, {});
    assert.notEqual(out, tool);
    assert.deepEqual(out, tool);
    const proto = applyToolOverrides({ name: 'constructor', description: 'd' }, {}, {});
    assert.deepEqual(proto, { name: 'constructor', description: 'd' });
  });

  it('round-trips: a call by display name reaches the original tool', () => {
    const displayNames = { create_issue: 'new_ticket', search: 'find' };
    const reverse = reverseDisplayNames(displayNames);
    for (const name of ['create_issue', 'search']) {
      const shown = applyToolOverrides({ name }, displayNames, {}).name as string;
      assert.equal(originalToolName(shown, displayNames, reverse), name);
    }
    assert.equal(originalToolName('list', displayNames, reverse), 'list');
    // The original name of a renamed tool is not what tools/list showed, so it is refused.
    assert.equal(originalToolName('create_issue', displayNames, reverse), undefined);
  });
});

describe('reverseDisplayNames', () => {
  it('reports display names two tools would answer to instead of picking one', () => {
    const r = reverseDisplayNames({ a: 'same', b: 'same', c: 'unique' });
    assert.deepEqual(r.ambiguous, ['same']);
    assert.equal(r.toOriginal.has('same'), false);
    assert.equal(r.toOriginal.get('unique'), 'c');
    assert.equal(originalToolName('same', { a: 'same', b: 'same' }, r), undefined);
  });

  it('reports a rename onto the name of a tool that keeps its own name', () => {
    const displayNames = { a: 'b' };
    const r = reverseDisplayNames(displayNames, ['a', 'b']);
    assert.deepEqual(r.ambiguous, ['b']);
    assert.equal(originalToolName('b', displayNames, r), undefined);
  });

  it('allows swapping two names', () => {
    const displayNames = { a: 'b', b: 'a' };
    const r = reverseDisplayNames(displayNames, ['a', 'b']);
    assert.deepEqual(r.ambiguous, []);
    assert.equal(originalToolName('b', displayNames, r), 'a');
    assert.equal(originalToolName('a', displayNames, r), 'b');
  });
});
