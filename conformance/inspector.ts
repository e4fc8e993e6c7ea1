/**
 * The README's inspector lines, run as written: `npm start`'s gateway (examples/config.yaml) on a free
 * port, and each `npx @modelcontextprotocol/inspector@...` line of the "Try it" section with Node 22 and
 * the pinned inspector first on PATH. On Node 20 npx would resolve an inspector without `--header`; this
 * is the check that the documented commands work with the documented Node.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, stopChild } from '../test/fixtures/everything.js';
import { GATEWAY_ENTRY } from './gateway.js';
import { REPO_ROOT, type SuiteRuntime } from './runtime.js';

const run = promisify(execFile);
const DOC_URL = 'http://127.0.0.1:4000';
/** The example config's master key, as the README's quick start exports it. */
const EXAMPLE_KEY = 'sk-toolgate-dev';

/** The README's inspector command lines. */
export function readmeInspectorLines(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  return readme.split('\n').filter((l) => l.startsWith('npx @modelcontextprotocol/inspector@'));
}

/** Runs every README inspector line against a fresh example gateway; returns the problems found. */
export async function checkReadmeInspector(runtime: SuiteRuntime): Promise<string[]> {
  const lines = readmeInspectorLines();
  if (lines.length === 0) return ['README: no `npx @modelcontextprotocol/inspector@VERSION` lines to run'];
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', GATEWAY_ENTRY, 'start', '--config', 'examples/config.yaml', '--port', String(port)],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, TOOLGATE_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const problems: string[] = [];
  try {
    await waitReady(`http://127.0.0.1:${port}/health/readiness`);
    for (const line of lines) {
      const command = line.replaceAll(DOC_URL, `http://127.0.0.1:${port}`);
      try {
        const { stdout } = await run('sh', ['-c', command], {
          cwd: runtime.dir,
          env: { ...process.env, PATH: `${runtime.binDir}:${process.env.PATH ?? ''}`, TOOLGATE_API_KEY: EXAMPLE_KEY },
          timeout: 120_000,
        });
        const out = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { tools?: { name: string }[]; content?: { text?: string }[] };
        const ok = line.includes('tools/list') ? out.tools?.some((t) => t.name === 'echo') : out.content?.[0]?.text === 'Echo: hi';
        console.log(`${ok ? '✓' : '✗'} README: ${line}`);
        if (!ok) problems.push(`README inspector line answered unexpectedly: ${line}\n${stdout.slice(0, 500)}`);
      } catch (err) {
        const e = err as Error & { stderr?: string };
        problems.push(`README inspector line failed: ${line}\n${(e.stderr ?? e.message).slice(0, 800)}`);
      }
    }
  } finally {
    await stopChild(child);
  }
  return problems;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the example gateway was not ready at ${url}`);
}
