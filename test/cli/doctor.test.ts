import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { ROOT, toolgate } from '../helpers/cli.js';

const CANARY = 'sk-tg-canary-doctor-4b1e9d2f';

describe('toolgate doctor', () => {
  let dir: string;
  let file: string;
  let refuser: Server;
  let github: CatalogServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolgate-doctor-'));
    github = await startCatalogServer({ name: 'github', tools: [tool('search_repos'), tool('get_issue')] });
    refuser = createServer((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}'));
    refuser.listen(0, '127.0.0.1');
    await once(refuser, 'listening');
    const refusing = `http://127.0.0.1:${(refuser.address() as AddressInfo).port}/mcp`;
    file = join(dir, 'config.yaml');
    await writeFile(
      file,
      'mcp_servers:\n' +
        `  github:\n    url: ${github.url}\n` +
        `  locked:\n    url: ${refusing}\n    auth_type: bearer_token\n    auth_value: ${CANARY}\n` +
        `  everything:\n    command: node\n    cwd: ${ROOT}\n    args: ["node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"]\n` +
        `  crash:\n    command: node\n    args: ["-e", "console.error('boom: cannot find module x'); process.exit(3)"]\n` +
        '  nocmd:\n    command: no-such-command-tg\n' +
        `  legacy:\n    url: ${github.url.replace(/\/mcp$/, '/sse')}\n`,
    );
  });
  after(async () => {
    refuser?.close();
    await github?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('checks every server and ends with the fixes, never printing a secret', async () => {
    const r = await toolgate(['doctor', '--config', file]);
    assert.equal(r.code, 1, 'some servers fail');
    const section = (name: string) => r.stdout.split(`\n${name} (`)[1]!.split('\n\n')[0]!;
    const gh = section('github');
    assert.match(gh, /ok {4}name 127\.0\.0\.1 resolves/);
    assert.match(gh, /ok {4}TCP connect to 127\.0\.0\.1:\d+/);
    assert.match(gh, /ok {4}initialize: github 1\.0\.0 in \d+ ms, era 2025-11-25 \(sessions\)/);
    assert.match(gh, /ok {4}tools\/list: 2 tool\(s\) in \d+ ms/);
    const locked = section('locked');
    assert.match(locked, /FAIL {2}auth: refused \(auth_type bearer_token, sent Authorization: Bearer sk-t…\(\d+ chars\)\)/);
    const everything = section('everything');
    assert.match(everything, /ok {4}command found: .*node/);
    assert.match(everything, /ok {4}child started/);
    assert.match(everything, /tools\/list: \d+ tool\(s\)/);
    const crash = section('crash');
    assert.match(crash, /FAIL {2}.*exited with code 3/);
    assert.match(crash, /stderr \(last 1 lines\):\n\s+boom: cannot find module x/);
    assert.match(section('nocmd'), /FAIL {2}command "no-such-command-tg" not found/);
    assert.match(r.stdout, /mcp_servers\.legacy\.url: ends in \/sse.*add transport: sse/);
    assert.match(r.stdout, /Common mistakes and their fixes:/);
    assert.ok(!(r.stdout + r.stderr).includes(CANARY), 'no secret in the output');
  });

  it('checks one server when named, and names the others for an unknown one', async () => {
    const r = await toolgate(['doctor', '--config', file, 'github']);
    assert.match(r.stdout, /\ngithub \(http\)/);
    assert.doesNotMatch(r.stdout, /\nlocked \(/);
    const u = await toolgate(['doctor', '--config', file, 'nope']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /no server "nope" in .*\(servers: github, locked, everything, crash, nocmd, legacy\)/);
  });
});
