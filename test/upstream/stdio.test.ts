import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { StdioTransport } from '../../src/upstream/stdio.js';
import { UpstreamError, type TransportLog } from '../../src/upstream/transport.js';
import { everythingStdio } from '../fixtures/everything.js';
import { TinyRpc, exerciseEverything, firstText } from './tiny-rpc.js';
import { until } from '../helpers/within.js';

const PARENT_ONLY = 'TOOLGATE_TEST_PARENT_SECRET';
process.env[PARENT_ONLY] = 'must-not-leak';

/** Keeps log lines in memory so tests can look at them. */
function memoryLog(): TransportLog & { lines: Array<{ level: string; obj: object; msg?: string }> } {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  return {
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

const started: StdioTransport[] = [];
function stdio(env: Record<string, string> = {}, log = memoryLog(), command?: { command: string; args: string[] }) {
  const cmd = command ?? everythingStdio();
  const t = new StdioTransport({ ...cmd, env, serverName: 'everything', log });
  started.push(t);
  return t;
}
after(() => Promise.all(started.map((t) => t.close())));

test('initialize, tools/list, tools/call echo over stdio; stderr goes to the log', async () => {
  const log = memoryLog();
  const transport = stdio({}, log);
  await exerciseEverything(transport);
  await transport.close();
  await transport.close();
  assert.ok(
    log.lines.some((l) => l.level === 'info' && (l.obj as { stream?: string }).stream === 'stderr'),
    'stderr lines were logged',
  );
});

test('the child sees only the configured env plus PATH and HOME', async () => {
  const transport = stdio({ CONFIGURED_VAR: 'configured-value' });
  const rpc = new TinyRpc(transport);
  await rpc.start();
  await rpc.handshake();
  const env = JSON.parse(firstText(await rpc.request('tools/call', { name: 'get-env', arguments: {} }))) as Record<string, string>;
  assert.equal(env.CONFIGURED_VAR, 'configured-value');
  assert.equal(env[PARENT_ONLY], undefined);
  assert.equal(env.PATH, process.env.PATH);
  if (process.platform === 'linux') assert.deepEqual(Object.keys(env).sort(), ['CONFIGURED_VAR', 'HOME', 'PATH']);
  await transport.close();
});

test('a killed child closes the transport with an error naming the server', async () => {
  const transport = stdio();
  const rpc = new TinyRpc(transport);
  await rpc.start();
  await rpc.handshake();
  process.kill(transport.pid!, 'SIGKILL');
  const err = await rpc.closed;
  assert.ok(err instanceof UpstreamError);
  assert.equal(err.failure, 'closed');
  assert.match(err.message, /^stdio server "everything" was killed by SIGKILL/);
  await assert.rejects(rpc.request('ping'), (e: unknown) => e instanceof UpstreamError && e.failure === 'closed');
});

test('a child that exits reports its exit code; partial and non-JSON lines are handled', async () => {
  const script = [
    'process.stdout.write(\'not json\\n\\n{"jsonrpc":"2.0",\');',
    'setTimeout(() => { process.stdout.write(\'"method":"notifications/hello"}\\n\'); process.exit(3); }, 50);',
  ].join('\n');
  const log = memoryLog();
  const transport = stdio({}, log, { command: process.execPath, args: ['-e', script] });
  const rpc = new TinyRpc(transport);
  await rpc.start();
  const err = await rpc.closed;
  assert.ok(err instanceof UpstreamError);
  assert.match(err.message, /^stdio server "everything" exited with code 3$/);
  assert.deepEqual(rpc.others, [{ jsonrpc: '2.0', method: 'notifications/hello' }]);
  assert.ok(log.lines.some((l) => l.level === 'warn' && (l.obj as { server?: string }).server === 'everything'));
});

test('a missing command fails start() with a clear error', async () => {
  const transport = stdio({}, memoryLog(), { command: 'toolgate-no-such-command-xyz', args: [] });
  await assert.rejects(transport.start(new TinyRpc(transport).handlers), (err: unknown) => {
    assert.ok(err instanceof UpstreamError);
    assert.match(err.message, /stdio server "everything": cannot run "toolgate-no-such-command-xyz": command not found/);
    return true;
  });
  await transport.close();
});

test('a transport can be created again after the previous one closed', async () => {
  for (let i = 0; i < 2; i++) {
    const transport = stdio();
    const rpc = new TinyRpc(transport);
    await rpc.start();
    await rpc.handshake();
    await transport.close();
    await until(() => transport.pid === undefined, 'the child to exit');
  }
});
