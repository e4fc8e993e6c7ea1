/**
 * tools/call latency and throughput over several paths side by side. Each path's time is split into rounds
 * run in rotating order, so a burst of background load on this shared 2-core machine lands on every path
 * rather than on one.
 */
import { runLoad } from './loadrun.js';
import type { Kind, PathRow } from './results.js';
import { summarize } from './stats.js';

export interface PathDef {
  id: string;
  label: string;
  kind: Kind;
  /** Undefined: the path could not be set up; `note` says why. */
  url?: string;
  note?: string;
  headers?: Record<string, string>;
  tool: string;
}

export interface PathBudget {
  concurrency: number;
  msPerPath: number;
  rounds: number;
  maxCallsPerRun: number;
}

export async function comparePaths(paths: PathDef[], budget: PathBudget, log: (s: string) => void): Promise<PathRow[]> {
  const acc = new Map<string, { samples: number[]; calls: number; elapsedMs: number; errors: number; error?: string }>();
  const runnable = paths.filter((p) => p.url);
  for (let round = 0; round < budget.rounds; round++) {
    const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!);
    for (const p of order) {
      const a = acc.get(p.id) ?? { samples: [], calls: 0, elapsedMs: 0, errors: 0 };
      acc.set(p.id, a);
      if (a.error && a.calls === 0) continue;
      try {
        const r = await runLoad({
          url: p.url!,
          headers: p.headers,
          mode: 'call',
          tool: p.tool,
          concurrency: budget.concurrency,
          durationMs: Math.max(200, Math.round(budget.msPerPath / budget.rounds)),
          maxCalls: budget.maxCallsPerRun,
          warmupCalls: round === 0 ? 300 : 30,
        });
        a.errors += r.errors;
        if (r.firstError) a.error ??= r.firstError;
        a.calls += r.calls;
        a.elapsedMs += r.elapsedMs;
        for (const s of r.samples ?? []) a.samples.push(s);
      } catch (err) {
        a.error ??= err instanceof Error ? err.message : String(err);
      }
    }
    log(`  c=${budget.concurrency} round ${round + 1}/${budget.rounds} done`);
  }
  return paths.map((p): PathRow => {
    const base = { id: p.id, label: p.label, kind: p.kind, concurrency: budget.concurrency };
    if (!p.url) return { ...base, status: 'not available', note: p.note };
    const a = acc.get(p.id)!;
    if (a.calls === 0) return { ...base, status: 'failed', note: a.error ?? 'no call completed within the time budget', errors: a.errors };
    return {
      ...base,
      status: 'ok',
      note: a.errors ? `${a.errors} errors, first: ${a.error}` : undefined,
      calls: a.calls,
      errors: a.errors,
      callsPerSec: a.calls / (a.elapsedMs / 1000),
      latency: summarize(Float64Array.from(a.samples)),
    };
  });
}
