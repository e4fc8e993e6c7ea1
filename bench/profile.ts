/**
 * One load against a gateway started with `node --cpu-prof`, then the top self-time functions of its profile:
 *   npm run build && npx tsx bench/profile.ts call-server|call-aggregate|list [concurrency] [seconds]
 * Profiles land in bench/tmp/prof/<scenario>-c<n>/; the summary is printed (see bench/cpuprofile-top.ts).
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { topSelfTime } from './cpuprofile-top.js';
import { TMP, type EchoFleet } from './launch.js';
import { runLoad } from './loadrun.js';
import { installCleanup } from './processes.js';
import { withRig } from './rig.js';

const scenario = process.argv[2] ?? 'call-server';
const concurrency = Number(process.argv[3] ?? 16);
const seconds = Number(process.argv[4] ?? 8);
const dir = join(TMP, 'prof', `${scenario}-c${concurrency}`);
await rm(dir, { recursive: true, force: true });
process.env.TOOLGATE_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir}`;
installCleanup();

const listing = scenario === 'list';
const names = Array.from({ length: listing ? 50 : 3 }, (_, i) => `e${i + 1}`);
const gateway = { label: `prof-${scenario}`, servers: (f: EchoFleet) => Object.fromEntries(names.map((n, i) => [n, { url: f.urls[i]! }])) };
const result = await withRig(
  { instances: names.length, tools: listing ? 100 : 1 },
  gateway,
  async ({ tg }) => {
    const url = scenario === 'call-server' ? `${tg.base}/mcp/e1` : `${tg.base}/mcp`;
    const tool = scenario === 'call-server' ? 'echo' : 'e1-echo';
    return runLoad({
      url,
      headers: tg.headers,
      mode: listing ? 'list' : 'call',
      tool,
      concurrency,
      durationMs: seconds * 1000,
      maxCalls: 1_000_000,
      warmupCalls: 200,
    });
  },
  (note) => {
    throw new Error(note);
  },
);
process.stderr.write(
  `${scenario} c=${concurrency}: ${result.callsPerSec.toFixed(0)} calls/s, p50 ${result.latency?.p50.toFixed(3)} ms, p99 ${result.latency?.p99.toFixed(3)} ms\n`,
);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) process.stdout.write(topSelfTime(join(dir, f), 25));
