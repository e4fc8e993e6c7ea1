/** Toolgate's RSS with many idle client sessions, and after they have outlived the idle TTL. */
import { toolgateAvailable, type EchoFleet } from './launch.js';
import { runLoad } from './loadrun.js';
import { rssBytes, sleep } from './processes.js';
import type { MemoryResult } from './results.js';
import { withRig } from './rig.js';
import { pingStatus } from './wire.js';

export async function measureMemory(steps: number[], ttlSeconds: number, log: (s: string) => void): Promise<MemoryResult> {
  const route = '/mcp';
  const base: MemoryResult = { status: 'not available', route, ttlSeconds, points: [] };
  if (!toolgateAvailable()) return { ...base, note: 'src/cli/main.ts does not exist yet' };
  const gateway = {
    label: 'memory',
    servers: (f: EchoFleet) => ({ echo: { url: f.urls[0]! } }),
    settings: { session_ttl_seconds: ttlSeconds },
  };
  return withRig<MemoryResult>(
    { instances: 1, tools: 1 },
    gateway,
    async ({ tg, agent }) => {
      await sleep(1000);
      const baselineRss = await rssBytes(tg.proc.pid);
      const points: MemoryResult['points'] = [];
      let open = 0;
      let sample: string | undefined;
      for (const target of steps) {
        const r = await runLoad({
          url: `${tg.base}${route}`,
          headers: tg.headers,
          mode: 'sessions',
          sessions: target - open,
          concurrency: 16,
          durationMs: 120_000,
          maxCalls: target - open,
          warmupCalls: 0,
        });
        if (r.errors && !r.sessionsOpened) throw new Error(`opening sessions: ${r.firstError}`);
        open += r.sessionsOpened ?? 0;
        sample ??= r.sampleSessionId;
        await sleep(500);
        points.push({ sessions: open, rssBytes: await rssBytes(tg.proc.pid), openMs: r.elapsedMs });
        log(`  ${open} idle sessions: RSS ${(points.at(-1)!.rssBytes / 2 ** 20).toFixed(1)} MiB`);
      }
      const first = points[0]!;
      const last = points.at(-1)!;
      const bytesPerSession =
        last.sessions > first.sessions ? (last.rssBytes - first.rssBytes) / (last.sessions - first.sessions) : undefined;

      // Wait out the TTL plus a sweep, polling the first session until the gateway has forgotten it.
      const t0 = performance.now();
      let expired = false;
      await sleep(ttlSeconds * 1000);
      while (!expired && performance.now() - t0 < ttlSeconds * 1000 + 15_000) {
        expired = sample !== undefined && (await pingStatus(agent, tg.base, route, tg.headers, sample)) === 404;
        if (!expired) await sleep(500);
      }
      await sleep(1000);
      const afterTtl = { waitedMs: performance.now() - t0, rssBytes: await rssBytes(tg.proc.pid), oldSessionExpired: expired };
      return { ...base, status: 'ok', baselineRss, points, bytesPerSession, afterTtl };
    },
    (note) => ({ ...base, status: 'failed', note }),
  );
}
