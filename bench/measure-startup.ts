/** Spawn to ready: Toolgate with an examples-like config (one stdio server-everything), and the stdio peers for scale. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ROOT, startMcpProxy, startSupergateway, startToolgate, toolgateAvailable, type Proxy } from './launch.js';
import { stopProcess } from './processes.js';
import type { StartupResult } from './results.js';
import { median } from './stats.js';

const EVERYTHING = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

async function timeRuns(
  id: string,
  label: string,
  kind: StartupResult['kind'],
  runs: number,
  start: () => Promise<{ proxy: Proxy; readyMs: number }>,
): Promise<StartupResult> {
  const runsMs: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { proxy, readyMs } = await start();
      runsMs.push(readyMs);
      await stopProcess(proxy.proc);
    }
    return { id, label, kind, status: 'ok', runsMs, medianMs: median(runsMs) };
  } catch (err) {
    return { id, label, kind, status: 'failed', note: err instanceof Error ? err.message : String(err), runsMs };
  }
}

async function timed(start: () => Promise<Proxy>): Promise<{ proxy: Proxy; readyMs: number }> {
  const t0 = performance.now();
  const proxy = await start();
  return { proxy, readyMs: performance.now() - t0 };
}

/** Peers get fewer runs than Toolgate: they are context, and each start costs seconds. */
export async function measureStartup(runs: number, peerRuns: number): Promise<StartupResult[]> {
  const toolgate: StartupResult = toolgateAvailable()
    ? await timeRuns('toolgate', 'Toolgate (stdio server-everything)', 'toolgate', runs, async () => {
        const tg = await startToolgate('startup', { everything: { command: 'node', args: [EVERYTHING, 'stdio'], transport: 'stdio' } });
        return { proxy: tg, readyMs: tg.readyMs };
      })
    : {
        id: 'toolgate',
        label: 'Toolgate (stdio server-everything)',
        kind: 'toolgate',
        status: 'not available',
        note: 'src/cli/main.ts does not exist yet',
        runsMs: [],
      };
  return [
    toolgate,
    await timeRuns('mcp-proxy', 'mcp-proxy (stdio echo)', 'peer', peerRuns, () => timed(startMcpProxy)),
    await timeRuns('supergateway', 'supergateway (stdio echo)', 'peer', peerRuns, () => timed(startSupergateway)),
  ];
}

/**
 * Run directly (`npx tsx bench/measure-startup.ts [runs]`, after `npm run build`): Toolgate's
 * spawn-to-ready runs and their median only, without the peers.
 */
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 9);
  const [toolgate] = await measureStartup(runs, 0);
  const ms = toolgate!.runsMs.map((v) => Math.round(v));
  console.log(
    `${toolgate!.status} median ${toolgate!.medianMs?.toFixed(1)} ms  min ${Math.min(...ms)} max ${Math.max(...ms)}  runs ${ms.join(' ')}`,
  );
  if (toolgate!.note) console.log(toolgate!.note);
}
