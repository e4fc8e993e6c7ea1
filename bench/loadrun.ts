/** Runs the load generator as a child process and merges several of its runs into one result per path. */
import { join } from 'node:path';

import type { LoadResult, LoadSpec } from './loadgen.js';
import { ROOT } from './launch.js';
import { startProcess, stopProcess } from './processes.js';

export async function runLoad(spec: LoadSpec): Promise<LoadResult & { samples?: number[] }> {
  const proc = startProcess('loadgen', process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'loadgen.ts'), JSON.stringify(spec)], {
    cwd: ROOT,
  });
  let out = '';
  proc.child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const limit = spec.durationMs + 60_000;
  const timer = setTimeout(() => void stopProcess(proc), limit);
  const code = await proc.exited;
  clearTimeout(timer);
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`loadgen failed (exit ${code}): ${proc.tail().slice(-500)}`);
  return JSON.parse(line) as LoadResult & { samples?: number[] };
}
