import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildNameTable,
  exposeName,
  isValidName,
  sanitizeNamePart,
  stableHash,
  type NameEntry,
  type NameTable,
} from '../../src/router/names.js';
import type { PrefixMode } from '../../src/config/types.js';
import { rng } from '../helpers/rng.js';

const ALPHABET = ['a', 'Z', '0', '_', '.', '-', ' ', '/', ':', 'é', 'ß', '中', '😀', '\u0000', '\n', '\uD800', 'ﬁ', '\u200B', '"', '%'];

function fuzzString(next: () => number, maxLen: number): string {
  const len = Math.floor(next() * maxLen);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

function entry(server: string, name: string, mode: PrefixMode, prefix = server): NameEntry {
  return { server, prefix, name, mode };
}

/** Every exposed name routes back to exactly its entry, and byServer agrees with exposed. */
function assertConsistent(table: NameTable): void {
  for (const [exposed, target] of table.exposed) {
    assert.ok(isValidName(exposed), `invalid exposed name ${JSON.stringify(exposed)}`);
    assert.equal(table.byServer.get(target.server)?.get(target.name), exposed);
  }
  let count = 0;
  for (const names of table.byServer.values()) count += names.size;
  assert.equal(count, table.exposed.size, 'byServer and exposed disagree');
}

describe('isValidName / sanitizeNamePart', () => {
  it('accepts SEP-986 names and refuses the rest', () => {
    assert.ok(isValidName('a'));
    assert.ok(isValidName('A-b_c.9'));
    assert.ok(isValidName('x'.repeat(128)));
    assert.ok(!isValidName(''));
    assert.ok(!isValidName('x'.repeat(129)));
    assert.ok(!isValidName('a b'));
    assert.ok(!isValidName('a/b'));
    assert.ok(!isValidName('é'));
  });

  it('replaces each invalid code point with one underscore', () => {
    assert.equal(sanitizeNamePart('get weather/now'), 'get_weather_now');
    assert.equal(sanitizeNamePart('a😀b'), 'a_b');
    assert.equal(sanitizeNamePart('ok-name.1_2'), 'ok-name.1_2');
  });
});

describe('exposeName', () => {
  it('joins prefix, separator and name, or returns the bare name', () => {
    assert.equal(exposeName('github', 'create_issue', '-', 64), 'github-create_issue');
    assert.equal(exposeName(undefined, 'create_issue', '-', 64), 'create_issue');
    assert.equal(exposeName('gh', 'x', '__', 64), 'gh__x');
  });

  it('sanitizes the separator too when it is not SEP-986', () => {
    assert.equal(exposeName('a', 'b', '/', 64), 'a_b');
  });

  it('never returns an empty name', () => {
    assert.equal(exposeName(undefined, '', '-', 64), '_');
  });

  it('yields a valid name within the limit for fuzzed input, at 64 and 128', () => {
    const next = rng(986);
    for (let i = 0; i < 3000; i++) {
      const prefix = next() < 0.2 ? undefined : fuzzString(next, 40);
      const name = fuzzString(next, i % 10 === 0 ? 400 : 80);
      for (const max of [64, 128]) {
        const out = exposeName(prefix, name, '-', max);
        assert.ok(isValidName(out), `invalid: ${JSON.stringify(out)} from ${JSON.stringify([prefix, name])}`);
        assert.ok(out.length <= max);
      }
    }
  });

  it('shortens deterministically to exactly the limit with a readable head and a hash suffix', () => {
    const name = 'summarize_the_quarterly_financial_report_for_the_board_of_directors_in_detail';
    for (const max of [64, 128]) {
      const long = name.repeat(3);
      const a = exposeName('finance-server', long, '-', max);
      const b = exposeName('finance-server', long, '-', max);
      assert.equal(a, b);
      assert.equal(a.length, max);
      assert.ok(a.startsWith('finance-server-summarize_the_quarterly'));
      assert.match(a, /_[a-z2-7]{8}$/);
    }
  });

  it('gives different shortened names to names that differ only after the cut', () => {
    const head = 'x'.repeat(100);
    const a = exposeName('s', `${head}_alpha`, '-', 64);
    const b = exposeName('s', `${head}_beta`, '-', 64);
    assert.notEqual(a, b);
    assert.equal(a.slice(0, 55), b.slice(0, 55));
  });

  it('hashes with a known, process-independent value', () => {
    // Pinned so a change of hash input or encoding (which would rename tools on a rolling
    // upgrade across replicas) is caught. Value: lowercase RFC 4648 base32 of the first 5 bytes
    // of SHA-256("abc"), computed independently with Python's base64.b32encode.
    assert.equal(stableHash('abc'), 'xj4bnp4p');
  });

  it('refuses a maxLength outside 16..128', () => {
    assert.throws(() => exposeName('a', 'b', '-', 8), RangeError);
    assert.throws(() => exposeName('a', 'b', '-', 129), RangeError);
  });
});

describe('buildNameTable', () => {
  const opts = { separator: '-', maxLength: 64 };

  it('always: prefixes every name, and colliding tool names stay apart', () => {
    const t = buildNameTable(
      [entry('github', 'search', 'always'), entry('gitlab', 'search', 'always'), entry('gitlab', 'merge', 'always')],
      opts,
    );
    assert.deepEqual([...t.exposed.keys()], ['github-search', 'gitlab-search', 'gitlab-merge']);
    assert.deepEqual(t.exposed.get('gitlab-search'), { server: 'gitlab', name: 'search' });
    assert.deepEqual(t.collisions, []);
    assertConsistent(t);
  });

  it('uses the alias as prefix but routes to the server name', () => {
    const t = buildNameTable([entry('github-enterprise', 'search', 'always', 'ghe')], opts);
    assert.deepEqual(t.exposed.get('ghe-search'), { server: 'github-enterprise', name: 'search' });
  });

  it('conditional: prefixes only names several servers share', () => {
    const t = buildNameTable(
      [
        entry('github', 'search', 'conditional'),
        entry('github', 'create_issue', 'conditional'),
        entry('jira', 'search', 'conditional'),
        entry('jira', 'transition', 'conditional'),
      ],
      opts,
    );
    assert.deepEqual([...t.exposed.keys()].sort(), ['create_issue', 'github-search', 'jira-search', 'transition']);
    assertConsistent(t);
  });

  it('conditional: names that only collide after sanitizing are prefixed too', () => {
    const t = buildNameTable([entry('a', 'get weather', 'conditional'), entry('b', 'get_weather', 'conditional')], opts);
    assert.deepEqual([...t.exposed.keys()].sort(), ['a-get_weather', 'b-get_weather']);
    assertConsistent(t);
  });

  it("conditional: a bare name equal to another server's prefixed name is prefixed", () => {
    const t = buildNameTable([entry('x', 'y', 'always'), entry('b', 'x-y', 'conditional')], opts);
    assert.deepEqual(t.exposed.get('x-y'), { server: 'x', name: 'y' });
    assert.deepEqual(t.exposed.get('b-x-y'), { server: 'b', name: 'x-y' });
  });

  it('never: keeps the first server in input order and reports the collision with every server', () => {
    const t = buildNameTable(
      [entry('one', 'search', 'never'), entry('two', 'search', 'never'), entry('three', 'search', 'never'), entry('two', 'other', 'never')],
      opts,
    );
    assert.deepEqual(t.exposed.get('search'), { server: 'one', name: 'search' });
    assert.deepEqual(t.collisions, [
      {
        exposed: 'search',
        servers: ['one', 'two', 'three'],
        targets: [
          { server: 'one', name: 'search' },
          { server: 'two', name: 'search' },
          { server: 'three', name: 'search' },
        ],
      },
    ]);
    assert.equal(t.byServer.get('two')?.has('search'), false);
    assert.equal(t.byServer.get('two')?.get('other'), 'other');
    assertConsistent(t);
  });

  it('routes by exact lookup when the separator occurs inside server and tool names', () => {
    const t = buildNameTable([entry('a-b', 'c', 'always'), entry('a', 'b-c', 'always')], opts);
    // Both want `a-b-c`; neither may take it from the other, and both stay callable.
    assert.equal(t.exposed.size, 2);
    assert.equal(t.exposed.has('a-b-c'), false);
    const first = t.byServer.get('a-b')!.get('c')!;
    const second = t.byServer.get('a')!.get('b-c')!;
    assert.notEqual(first, second);
    assert.deepEqual(t.exposed.get(first), { server: 'a-b', name: 'c' });
    assert.deepEqual(t.exposed.get(second), { server: 'a', name: 'b-c' });
    assert.match(first, /^a-b-c_[a-z2-7]{8}$/);
    assertConsistent(t);
  });

  it('keeps the lossless name and hashes the one sanitizing turned into it', () => {
    const t = buildNameTable([entry('s', 'read file', 'always'), entry('s', 'read_file', 'always')], opts);
    assert.deepEqual(t.exposed.get('s-read_file'), { server: 's', name: 'read_file' });
    const other = t.byServer.get('s')!.get('read file')!;
    assert.match(other, /^s-read_file_[a-z2-7]{8}$/);
    assertConsistent(t);
  });

  it('does not let a lossy never-mode name take or shadow an exact one', () => {
    const t = buildNameTable([entry('a', 'get/x', 'never'), entry('b', 'get_x', 'never')], opts);
    assert.deepEqual(t.exposed.get('get_x'), { server: 'b', name: 'get_x' });
    assert.match(t.byServer.get('a')!.get('get/x')!, /^get_x_[a-z2-7]{8}$/);
    assert.deepEqual(t.collisions, []);
  });

  it('exposes a display name but routes back to the original name', () => {
    const t = buildNameTable([{ server: 'gh', prefix: 'gh', name: 'create_issue', display: 'new_ticket', mode: 'always' }], opts);
    assert.deepEqual(t.exposed.get('gh-new_ticket'), { server: 'gh', name: 'create_issue' });
    assert.equal(t.byServer.get('gh')!.get('create_issue'), 'gh-new_ticket');
  });

  it('does not merge a renamed tool with the tool whose name it took', () => {
    const t = buildNameTable([{ server: 's', prefix: 's', name: 'a', display: 'b', mode: 'always' }, entry('s', 'b', 'always')], opts);
    assert.equal(t.exposed.size, 2);
    assertConsistent(t);
  });

  it('treats the same (server, name) listed twice as one entry', () => {
    const t = buildNameTable([entry('s', 'x', 'never'), entry('s', 'x', 'never')], opts);
    assert.deepEqual([...t.exposed.keys()], ['x']);
    assert.deepEqual(t.collisions, []);
  });

  it('keeps every long name distinct, valid, within the limit and callable, and is deterministic', () => {
    for (const maxLength of [64, 128]) {
      const o = { separator: '-', maxLength };
      const long = 'very_long_tool_name_that_goes_on_and_on_'.repeat(5);
      const entries: NameEntry[] = [];
      for (const server of ['alpha', 'alpha-beta', 'gamma']) {
        for (let i = 0; i < 50; i++) entries.push(entry(server, `${long}${i}`, 'always'));
        entries.push(entry(server, long, 'always'));
      }
      const t1 = buildNameTable(entries, o);
      const t2 = buildNameTable(
        entries.map((e) => ({ ...e })),
        o,
      );
      assert.deepEqual([...t1.exposed], [...t2.exposed]);
      assert.equal(t1.exposed.size, entries.length);
      for (const name of t1.exposed.keys()) assert.ok(name.length <= maxLength);
      assertConsistent(t1);
    }
  });

  it('stays valid and collision-free over fuzzed names in every mode', () => {
    const next = rng(2024);
    const modes: PrefixMode[] = ['always', 'conditional', 'never'];
    for (let round = 0; round < 40; round++) {
      const entries: NameEntry[] = [];
      for (let s = 0; s < 4; s++) {
        const server = `srv${s % 3 === 0 ? '-x' : ''}${s}`;
        const mode = modes[Math.floor(next() * 3)];
        for (let i = 0; i < 25; i++) entries.push(entry(server, fuzzString(next, next() < 0.1 ? 300 : 12), mode));
      }
      for (const maxLength of [64, 128]) {
        const t = buildNameTable(entries, { separator: '-', maxLength });
        assertConsistent(t);
        const uniquePairs = new Set(entries.map((e) => JSON.stringify([e.server, e.name]))).size;
        const dropped = t.collisions.reduce((n, c) => n + c.servers.length - 1, 0);
        assert.equal(t.exposed.size + dropped, uniquePairs, 'a name was lost without being reported');
        for (const c of t.collisions)
          for (const target of c.targets)
            assert.ok(entries.some((e) => e.server === target.server && e.name === target.name && e.mode === 'never'));
      }
    }
  });
});
