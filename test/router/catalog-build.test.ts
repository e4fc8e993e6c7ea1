import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildListingTable,
  buildUriTable,
  disambiguatedUri,
  mergeListing,
  resolveUri,
  type ServerListing,
  type ServerNaming,
} from '../../src/router/catalog-build.js';
import { isValidName } from '../../src/router/names.js';
import { toolAllowed } from '../../src/policy/filters.js';

const opts = { separator: '-', maxLength: 64 };

function naming(entries: Record<string, Partial<ServerNaming>>): Map<string, ServerNaming> {
  return new Map(Object.entries(entries).map(([server, n]) => [server, { prefix: server, mode: 'always', ...n }]));
}

describe('mergeListing: tools, prompts, templates', () => {
  const tools: ServerListing[] = [
    {
      server: 'github',
      items: [
        {
          name: 'search',
          description: 'gh search',
          inputSchema: { type: 'object' },
          annotations: { readOnlyHint: true },
          x_future: { nested: [1] },
        },
        { name: 'create_issue', description: 'old', inputSchema: { type: 'object' } },
      ],
      descriptions: { create_issue: 'File an issue on GitHub' },
    },
    { server: 'jira', items: [{ name: 'search', inputSchema: { type: 'object' }, _meta: { 'io.example/k': 1 } }] },
  ];

  it('renames to exposed names in server order and keeps unknown fields untouched', () => {
    const table = buildListingTable('tools', tools, naming({ github: {}, jira: {} }), opts);
    const merged = mergeListing('tools', tools, table);
    assert.deepEqual(
      merged.map((t) => t.name),
      ['github-search', 'github-create_issue', 'jira-search'],
    );
    assert.equal(merged[0].x_future, tools[0].items[0].x_future);
    assert.deepEqual(merged[0], { ...tools[0].items[0], name: 'github-search' });
    assert.deepEqual(merged[2]._meta, { 'io.example/k': 1 });
    assert.equal(merged[1].description, 'File an issue on GitHub');
    assert.equal(tools[0].items[1].description, 'old', 'input mutated');
    for (const t of merged) assert.deepEqual(table.exposed.get(t.name as string)?.server, t.name === 'jira-search' ? 'jira' : 'github');
  });

  it('applies display names and routes them back to the original name', () => {
    const table = buildListingTable('tools', tools, naming({ github: { displayNames: { create_issue: 'new_ticket' } }, jira: {} }), opts);
    const merged = mergeListing('tools', tools, table);
    assert.ok(merged.some((t) => t.name === 'github-new_ticket'));
    assert.deepEqual(table.exposed.get('github-new_ticket'), { server: 'github', name: 'create_issue' });
  });

  it('omits what the table does not expose: filtered tools, servers out of scope, nameless items', () => {
    const server = { name: 'github', disallowedTools: ['github-create_issue'] };
    const filtered = tools.map((l) =>
      l.server === 'github' ? { ...l, items: l.items.filter((t) => toolAllowed(t.name as string, server, '-')) } : l,
    );
    const table = buildListingTable('tools', filtered, naming({ github: {} }), opts);
    const merged = mergeListing('tools', [...tools, { server: 'github', items: [{ description: 'no name' }] }], table);
    assert.deepEqual(
      merged.map((t) => t.name),
      ['github-search'],
    );
  });

  it('keeps both sides of a never-mode collision out of shadowing: first kept, second reported', () => {
    const table = buildListingTable('tools', tools, naming({ github: { mode: 'never' }, jira: { mode: 'never' } }), opts);
    const merged = mergeListing('tools', tools, table);
    assert.deepEqual(
      merged.map((t) => t.name),
      ['search', 'create_issue'],
    );
    assert.deepEqual(
      table.collisions.map((c) => c.servers),
      [['github', 'jira']],
    );
  });

  it('renames prompts and templates and keeps uriTemplate', () => {
    const templates: ServerListing[] = [
      { server: 'fs', items: [{ name: 'file', uriTemplate: 'file:///{path}', mimeType: 'text/plain' }] },
      { server: 'db', items: [{ name: 'file', uriTemplate: 'db://{table}' }] },
    ];
    const table = buildListingTable(
      'resourceTemplates',
      templates,
      naming({ fs: { mode: 'conditional' }, db: { mode: 'conditional' } }),
      opts,
    );
    assert.deepEqual(mergeListing('resourceTemplates', templates, table), [
      { name: 'fs-file', uriTemplate: 'file:///{path}', mimeType: 'text/plain' },
      { name: 'db-file', uriTemplate: 'db://{table}' },
    ]);
    const prompts: ServerListing[] = [{ server: 'fs', items: [{ name: 'summarize', arguments: [{ name: 'path' }] }] }];
    const promptTable = buildListingTable('prompts', prompts, naming({ fs: {} }), opts);
    assert.deepEqual(mergeListing('prompts', prompts, promptTable), [{ name: 'fs-summarize', arguments: [{ name: 'path' }] }]);
  });

  it('pages a large upstream listing into valid, unique, routable names', () => {
    const big: ServerListing[] = [
      { server: 'many', items: Array.from({ length: 3000 }, (_, i) => ({ name: `tool number ${i} ${'pad'.repeat(i % 30)}` })) },
      { server: 'many-more', items: Array.from({ length: 3000 }, (_, i) => ({ name: `tool number ${i} ${'pad'.repeat(i % 30)}` })) },
    ];
    const table = buildListingTable('tools', big, naming({ many: {}, 'many-more': {} }), opts);
    const merged = mergeListing('tools', big, table);
    assert.equal(merged.length, 6000);
    const names = new Set(merged.map((t) => t.name as string));
    assert.equal(names.size, 6000);
    for (const n of names) assert.ok(isValidName(n) && n.length <= 64, n);
  });
});

describe('resources', () => {
  const resources: ServerListing[] = [
    {
      server: 'a',
      items: [
        { uri: 'file:///README.md', name: 'readme', size: 10 },
        { uri: 'file:///only-a', name: 'x' },
      ],
    },
    {
      server: 'b/c',
      items: [
        { uri: 'file:///README.md', name: 'readme', annotations: { priority: 1 } },
        { uri: 'mem://b', name: 'y' },
      ],
    },
    { server: 'empty', items: [] },
  ];

  it('keeps unique URIs verbatim and disambiguates a URI two servers claim', () => {
    const table = buildUriTable(resources);
    const merged = mergeListing('resources', resources, table);
    assert.deepEqual(
      merged.map((r) => r.uri),
      ['toolgate://a/file%3A%2F%2F%2FREADME.md', 'file:///only-a', 'toolgate://b%2Fc/file%3A%2F%2F%2FREADME.md', 'mem://b'],
    );
    assert.deepEqual(merged[2], { uri: 'toolgate://b%2Fc/file%3A%2F%2F%2FREADME.md', name: 'readme', annotations: { priority: 1 } });
    assert.equal(merged[0].size, 10);
  });

  it('resolves every exposed URI back to its server and original URI', () => {
    const table = buildUriTable(resources);
    for (const r of mergeListing('resources', resources, table)) {
      const target = resolveUri(table, r.uri as string);
      assert.ok(target);
      assert.ok(resources.find((l) => l.server === target.server)!.items.some((i) => i.uri === target.uri));
    }
    assert.deepEqual(resolveUri(table, 'toolgate://b%2Fc/file%3A%2F%2F%2FREADME.md'), { server: 'b/c', uri: 'file:///README.md' });
    assert.deepEqual(table.byServer.get('a')!.get('file:///README.md'), 'toolgate://a/file%3A%2F%2F%2FREADME.md');
  });

  it('resolves the disambiguated form of an unlisted URI of a known server, and nothing else', () => {
    const table = buildUriTable(resources);
    assert.deepEqual(resolveUri(table, disambiguatedUri('empty', 'file:///new?x=1#f')), { server: 'empty', uri: 'file:///new?x=1#f' });
    assert.equal(resolveUri(table, disambiguatedUri('unknown', 'file:///x')), undefined);
    assert.equal(resolveUri(table, 'toolgate://a/%E0%A4%A'), undefined);
    assert.equal(resolveUri(table, 'toolgate://a/b/c'), undefined);
    assert.equal(resolveUri(table, 'file:///nope'), undefined);
  });

  it('does not let a listed toolgate:// URI shadow a disambiguated one', () => {
    const tricky: ServerListing[] = [
      { server: 'a', items: [{ uri: 'x://1' }] },
      { server: 'b', items: [{ uri: 'x://1' }] },
      { server: 'c', items: [{ uri: disambiguatedUri('a', 'x://1') }] },
    ];
    const table = buildUriTable(tricky);
    assert.equal(table.exposed.size, 3);
    assert.deepEqual(resolveUri(table, disambiguatedUri('a', 'x://1')), { server: 'a', uri: 'x://1' });
    const cExposed = table.byServer.get('c')!.get(disambiguatedUri('a', 'x://1'))!;
    assert.deepEqual(resolveUri(table, cExposed), { server: 'c', uri: disambiguatedUri('a', 'x://1') });
  });

  it('lists a URI one server repeats once', () => {
    const dup: ServerListing[] = [
      {
        server: 'a',
        items: [
          { uri: 'u://1', name: 'first' },
          { uri: 'u://1', name: 'again' },
        ],
      },
    ];
    assert.deepEqual(mergeListing('resources', dup, buildUriTable(dup)), [{ uri: 'u://1', name: 'first' }]);
  });
});
