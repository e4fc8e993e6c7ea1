import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { loadConfig } from '../../src/config/load.js';

test('the stdio server in examples/config.yaml starts and answers as configured', async () => {
  const cfg = loadConfig('examples/config.yaml', {});
  const everything = cfg.servers.find((s) => s.name === 'everything');
  assert.ok(everything?.command);
  const transport = new StdioClientTransport({
    command: everything.command,
    args: everything.args,
    cwd: everything.cwd,
    env: { PATH: process.env.PATH ?? '', ...everything.env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'config-example-test', version: '0.0.0' });
  after(() => client.close());
  await client.connect(transport);
  const { tools } = await client.listTools();
  assert.ok(
    tools.some((t) => t.name === 'echo'),
    `tools: ${tools.map((t) => t.name).join(', ')}`,
  );
});
