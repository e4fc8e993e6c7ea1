/** Runs the suite's server scenarios against one URL and reads back what each scenario checked. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteRuntime } from './runtime.js';

export interface ScenarioResult {
  passed: number;
  failed: number;
  warnings: number;
  /** The failing checks' ids and messages, for the report. */
  failures: string[];
}

export type ScenarioResults = Map<string, ScenarioResult>;

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

// Result folders are named `server-<scenario>-<ISO timestamp with dashes>`.
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

export async function runSuite(runtime: SuiteRuntime, url: string, revision: string, outDir: string): Promise<ScenarioResults> {
  mkdirSync(outDir, { recursive: true });
  const child = spawn(runtime.node, [runtime.cli, 'server', '--url', url, '--requirements', revision, '-o', outDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => void (log += chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await once(child, 'exit');
  const results = readResults(outDir);
  if (results.size === 0) throw new Error(`the conformance suite produced no results for ${url}:\n${log.slice(-3000)}`);
  return results;
}

function readResults(outDir: string): ScenarioResults {
  const results: ScenarioResults = new Map();
  if (!existsSync(outDir)) return results;
  for (const entry of readdirSync(outDir).sort()) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    const file = join(outDir, entry, 'checks.json');
    if (!scenario || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    const failing = checks.filter((c) => c.status === 'FAILURE');
    results.set(scenario, {
      passed: checks.filter((c) => c.status === 'SUCCESS').length,
      failed: failing.length,
      warnings: checks.filter((c) => c.status === 'WARNING').length,
      failures: failing.map((c) => `${c.id}: ${c.errorMessage ?? 'failed'}`),
    });
  }
  return results;
}
