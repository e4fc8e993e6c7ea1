import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { toolgate } from '../helpers/cli.js';

const KEY = 'sk-tg-canary-connect-7f3a9c';
const URL_ = 'http://127.0.0.1:4999/mcp/github';
type Json = Record<string, any>;

/** What each client requires of its entry, checked on the parsed file. */
const REQUIRED: Record<string, { format: 'json' | 'toml'; other: string; check(doc: Json, inline: boolean): void }> = {
  cursor: {
    format: 'json',
    other: '{"mcpServers":{"other":{"url":"http://elsewhere/mcp"}},"theme":"dark"}',
    check(doc, inline) {
      const e = doc.mcpServers.toolgate;
      assert.equal(e.url, URL_);
      assert.equal(e.headers.Authorization, inline ? `Bearer ${KEY}` : 'Bearer ${env:TOOLGATE_API_KEY}');
    },
  },
  vscode: {
    format: 'json',
    other: '{"servers":{"other":{"type":"stdio","command":"x"}},"inputs":[{"type":"promptString","id":"other-key","password":true}]}',
    check(doc, inline) {
      const e = doc.servers.toolgate;
      assert.equal(e.type, 'http');
      assert.equal(e.url, URL_);
      if (inline) assert.equal(e.headers.Authorization, `Bearer ${KEY}`);
      else {
        const ref = /^Bearer \$\{input:([^}]+)\}$/.exec(e.headers.Authorization)?.[1];
        const input = doc.inputs.find((i: Json) => i.id === ref);
        assert.deepEqual({ type: input.type, password: input.password }, { type: 'promptString', password: true });
      }
    },
  },
  'claude-desktop': {
    format: 'json',
    other: '{"mcpServers":{"other":{"command":"npx","args":["x"]}},"globalShortcut":"Ctrl+Space"}',
    check(doc, inline) {
      const e = doc.mcpServers.toolgate;
      assert.equal(typeof e.command, 'string');
      assert.deepEqual(e.args.slice(-3), ['bridge', '--url', URL_]);
      assert.deepEqual(e.env, inline ? { TOOLGATE_API_KEY: KEY } : undefined);
    },
  },
  'claude-code': {
    format: 'json',
    other: '{"mcpServers":{"other":{"type":"stdio","command":"x"}}}',
    check(doc, inline) {
      const e = doc.mcpServers.toolgate;
      assert.equal(e.type, 'http');
      assert.equal(e.url, URL_);
      assert.equal(e.headers.Authorization, inline ? `Bearer ${KEY}` : 'Bearer ${TOOLGATE_API_KEY}');
    },
  },
  codex: {
    format: 'toml',
    other:
      '# my codex settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "x"\n\n[mcp_servers.toolgate]\nurl = "http://stale/mcp"\n\n[mcp_servers.toolgate.env]\nOLD = "1"\n',
    check(doc, inline) {
      const e = doc.mcp_servers.toolgate;
      assert.equal(e.url, URL_);
      if (inline) assert.equal(e.http_headers.Authorization, `Bearer ${KEY}`);
      else assert.equal(e.bearer_token_env_var, 'TOOLGATE_API_KEY');
      assert.equal(e.env, undefined, 'the stale entry is replaced whole');
    },
  },
  windsurf: {
    format: 'json',
    other: '{"mcpServers":{"other":{"command":"x"}}}',
    check(doc, inline) {
      const e = doc.mcpServers.toolgate;
      assert.equal(e.serverUrl, URL_);
      assert.equal(e.headers.Authorization, inline ? `Bearer ${KEY}` : 'Bearer ${env:TOOLGATE_API_KEY}');
    },
  },
};

describe('toolgate connect', { concurrency: true }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolgate-connect-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const parse = (format: 'json' | 'toml', text: string): Json => (format === 'toml' ? (parseToml(text) as Json) : JSON.parse(text));

  for (const [client, spec] of Object.entries(REQUIRED)) {
    for (const inline of [false, true]) {
      it(`${client}${inline ? ' --inline-key' : ''}: prints a parseable entry and --write merges it, keeping the others`, async () => {
        const args = ['connect', client, '--url', 'http://127.0.0.1:4999', '--server', 'github', ...(inline ? ['--inline-key'] : [])];
        const env = { TOOLGATE_API_KEY: KEY };
        const printed = await toolgate(args, env);
        assert.equal(printed.code, 0, printed.stderr);
        spec.check(parse(spec.format, printed.stdout), inline);
        assert.equal(printed.stdout.includes(KEY), inline, 'the key is in the output only with --inline-key');

        const file = join(dir, `${client}${inline ? '-inline' : ''}.${spec.format}`);
        await writeFile(file, spec.other);
        const wrote = await toolgate([...args, '--write', '--file', file], env);
        assert.equal(wrote.code, 0, wrote.stderr);
        const text = await readFile(file, 'utf8');
        const doc = parse(spec.format, text);
        spec.check(doc, inline);
        const container = client === 'vscode' ? doc.servers : client === 'codex' ? doc.mcp_servers : doc.mcpServers;
        assert.ok(container.other, 'the other entry is kept');
        assert.equal(text.includes(KEY), inline);
        if (client === 'vscode')
          assert.ok(
            doc.inputs.some((i: Json) => i.id === 'other-key'),
            'other inputs kept',
          );
        if (client === 'codex') {
          assert.match(text, /^# my codex settings/, 'comments kept');
          assert.equal(doc.model, 'o3');
        }
      });
    }
  }

  it('writes a new file when there is none, and refuses to touch a file that is not JSON', async () => {
    const fresh = join(dir, 'sub', 'mcp.json');
    assert.equal((await toolgate(['connect', 'cursor', '--write', '--file', fresh])).code, 0);
    assert.equal(JSON.parse(await readFile(fresh, 'utf8')).mcpServers.toolgate.url, 'http://127.0.0.1:4000/mcp');
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "mcpServers": { oops');
    const r = await toolgate(['connect', 'cursor', '--write', '--file', broken]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not valid JSON.*nothing was written/);
    assert.equal(await readFile(broken, 'utf8'), '{ "mcpServers": { oops');
  });

  it('names the known clients for an unknown one, and needs the key variable for --inline-key', async () => {
    const r = await toolgate(['connect', 'emacs']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown client "emacs" \(known: cursor, vscode, claude-desktop, claude-code, codex, windsurf\)/);
    const k = await toolgate(['connect', 'cursor', '--inline-key']);
    assert.equal(k.code, 2);
    assert.match(k.stderr, /TOOLGATE_API_KEY/);
  });
});
