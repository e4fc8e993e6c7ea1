import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli.js';

const run = promisify(execFile);

/**
 * The example config's stdio path is relative: it must work from any working directory, because a
 * stdio child starts in the config file's folder (or the server's own `cwd`, relative to that folder).
 * Run in a separate process whose working directory is an empty temporary folder.
 */
test('stdio children start in the config file folder unless the server sets cwd, from any working directory', async () => {
  const elsewhere = await mkdtemp(join(tmpdir(), 'toolgate-cwd-'));
  try {
    const script = `
      import { Client, StreamableHTTPClientTransport } from ${JSON.stringify(import.meta.resolve('@modelcontextprotocol/client'))};
      import { loadConfig } from ${JSON.stringify(join(ROOT, 'src/config/load.ts'))};
      import { startGateway } from ${JSON.stringify(join(ROOT, 'src/gateway.ts'))};
      import { silentLogger } from ${JSON.stringify(join(ROOT, 'src/observe/log.ts'))};
      const cfg = loadConfig(${JSON.stringify(join(ROOT, 'examples/config.yaml'))}, {});
      const gw = await startGateway(cfg, { port: 0, log: silentLogger });
      const client = new Client({ name: 'cwd-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(gw.url + '/mcp/everything'), { requestInit: { headers: { authorization: 'Bearer ' + cfg.masterKey } } }));
      const { tools } = await client.listTools();
      console.log(JSON.stringify({ cwd: process.cwd(), echo: tools.some((t) => t.name === 'echo') }));
      await client.close();
      await gw.close();
    `;
    const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
      cwd: elsewhere,
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { cwd: string; echo: boolean };
    assert.ok(out.cwd.includes('toolgate-cwd-'), out.cwd);
    assert.equal(out.echo, true);
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
  }

  const example = loadConfig(join(ROOT, 'examples/config.yaml'), {});
  assert.equal(example.servers[0]!.cwd, ROOT.replace(/\/$/, ''));
});

test('without cwd a stdio child starts in the config file folder', async () => {
  const { parseConfig } = await import('../../src/config/load.js');
  const cfg = parseConfig('mcp_servers:\n  s:\n    command: node\n', '/srv/toolgate/config.yaml', {});
  assert.equal(cfg.servers[0]!.cwd, '/srv/toolgate');
  const own = parseConfig('mcp_servers:\n  s:\n    command: node\n    cwd: tools\n', '/srv/toolgate/config.yaml', {});
  assert.equal(own.servers[0]!.cwd, '/srv/toolgate/tools');
});
