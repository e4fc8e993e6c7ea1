/**
 * Starts Toolgate in front of the fixture the way a user would: `toolgate start` with a
 * LiteLLM-style config naming one server, `fixture`, and a master key.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from './runtime.js';
import { startKeyProxy } from './key-proxy.js';
import { freePort, stopChild } from '../test/fixtures/everything.js';

export const GATEWAY_ENTRY = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const READY_TIMEOUT_MS = 30_000;

export interface RunningGateway {
  /** The fixture through Toolgate, reached via the key-adding proxy. */
  url: string;
  stop(): Promise<void>;
}

export function gatewayPresent(): boolean {
  return existsSync(GATEWAY_ENTRY);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => sock.end(() => resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

export async function startGateway(fixtureUrl: string): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-conformance-'));
  const key = `sk-conformance-${randomBytes(16).toString('hex')}`;
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    stringify({ mcp_servers: { fixture: { url: fixtureUrl, transport: 'http' } }, general_settings: { master_key: key } }),
    { mode: 0o600 },
  );
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY_ENTRY, 'start', '--config', config, '--port', String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, TOOLGATE_LOG_LEVEL: process.env.TOOLGATE_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const cleanup = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await cleanup();
      const why = child.exitCode !== null ? `exited with code ${child.exitCode}` : `did not listen within ${READY_TIMEOUT_MS / 1000}s`;
      throw new Error(`toolgate start ${why}${stderr ? `:\n${stderr.split(key).join('<master key>')}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const proxy = await startKeyProxy(port, key);
  return {
    url: `http://127.0.0.1:${proxy.port}/mcp/fixture`,
    async stop() {
      await proxy.close();
      await cleanup();
    },
  };
}
