/**
 * Spend logging under the benchmark's concurrency-16 throughput (issue 14, Performance): Toolgate with
 * a priced server, tools/call at c=16, then the spend log must hold one row per call the upstream saw
 * and nothing dropped. Run on a quiet machine: `npm run build && node --import tsx bench/measure-spend.ts [--quick]`.
 * Prints one JSON line; exits 1 when rows differ from calls.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { startEchoFleet, startToolgate, TMP, toolgateAvailable, type ServerEntry } from './launch.js';
import { runLoad } from './loadrun.js';
import { installCleanup, stopProcess } from './processes.js';

export interface SpendMeasure {
  concurrency: number;
  callsPerSec: number;
  upstreamCalls: number;
  rows: number;
  dropped: number;
  rowsEqualCalls: boolean;
  drainMs: number;
}

export async function measureSpend(durationMs: number, concurrency = 16): Promise<SpendMeasure> {
  const fleet = await startEchoFleet(1, 1);
  const dataDir = join(TMP, `spend-data-${randomBytes(4).toString('hex')}`);
  const priced = { url: fleet.urls[0]!, mcp_info: { mcp_server_cost_info: { default_cost_per_query: 0.001 } } };
  const tg = await startToolgate('spend', { echo: priced as ServerEntry }, { data_dir: dataDir });
  try {
    const load = await runLoad({
      url: `${tg.base}/mcp/echo`,
      headers: tg.headers,
      mode: 'call',
      tool: 'echo',
      concurrency,
      durationMs,
      maxCalls: 500_000,
      warmupCalls: 200,
    });
    const admin = async (path: string) => (await fetch(tg.base + path, { headers: tg.headers })).json() as Promise<any>;
    const t0 = performance.now();
    // The writer drains its queue on its own; wait for it (bounded), then count.
    for (
      let health = await admin('/spend/health');
      health.queued > 0 && performance.now() - t0 < 60_000;
      health = await admin('/spend/health')
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainMs = performance.now() - t0;
    const upstreamCalls = (await fleet.stats()).toolsCall;
    const rows = (await admin('/spend/logs?call_type=call_mcp_tool&page_size=1')).total as number;
    const dropped = (await admin('/spend/health')).dropped as number;
    return {
      concurrency,
      callsPerSec: load.callsPerSec,
      upstreamCalls,
      rows,
      dropped,
      rowsEqualCalls: rows === upstreamCalls && dropped === 0,
      drainMs,
    };
  } finally {
    await stopProcess(tg.proc);
    await stopProcess(fleet.proc);
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!toolgateAvailable()) throw new Error('build Toolgate first (npm run build)');
  installCleanup();
  const result = await measureSpend(process.argv.includes('--quick') ? 2_000 : 10_000);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.rowsEqualCalls ? 0 : 1);
}
