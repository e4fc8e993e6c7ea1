/** Aggregated tools/list through Toolgate /mcp over many upstreams: cold, warm, and proof that calls never re-list. */
import { toolgateAvailable, type EchoFleet } from './launch.js';
import { runLoad } from './loadrun.js';
import type { ListingResult } from './results.js';
import { withRig } from './rig.js';
import { openSession, rpc } from './wire.js';

export interface ListingBudget {
  servers: number;
  toolsPerServer: number;
  warmLists: number;
  proofCalls: number;
}

export async function measureListing(b: ListingBudget, log: (s: string) => void): Promise<ListingResult> {
  const base: ListingResult = { status: 'not available', servers: b.servers, toolsPerServer: b.toolsPerServer };
  if (!toolgateAvailable()) return { ...base, note: 'src/cli/main.ts does not exist yet' };
  const names = Array.from({ length: b.servers }, (_, i) => `e${String(i + 1).padStart(2, '0')}`);
  const gateway = { label: 'listing', servers: (f: EchoFleet) => Object.fromEntries(names.map((n, i) => [n, { url: f.urls[i]! }])) };
  return withRig<ListingResult>(
    { instances: b.servers, tools: b.toolsPerServer },
    gateway,
    async ({ fleet, tg, agent }) => {
      log(`  toolgate ready with ${b.servers} upstreams in ${tg.readyMs.toFixed(0)} ms`);
      const url = `${tg.base}/mcp`;

      // Cold: the first list this Toolgate process serves, then warm: many repeated lists in the same session.
      const lists = await runLoad({
        url,
        headers: tg.headers,
        mode: 'list',
        concurrency: 1,
        durationMs: 60_000,
        maxCalls: b.warmLists,
        warmupCalls: 5,
      });
      if (!lists.latency) return { ...base, status: 'failed', note: lists.firstError ?? 'tools/list failed' };

      // How many tools the aggregate really exposes, following our cursors to the end.
      const sid = await openSession(agent, tg.base, '/mcp', tg.headers);
      let toolsListed = 0;
      let pages = 0;
      let cursor: string | undefined;
      do {
        const page = await rpc(agent, tg.base, '/mcp', tg.headers, sid, 'tools/list', cursor ? { cursor } : {});
        toolsListed += Array.isArray(page.tools) ? page.tools.length : 0;
        cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
        pages++;
      } while (cursor && pages < 1000);

      const before = await fleet.stats();
      const calls = await runLoad({
        url,
        headers: tg.headers,
        mode: 'call',
        tool: `${names[0]}-echo`,
        concurrency: 4,
        durationMs: 60_000,
        maxCalls: b.proofCalls - 1,
        warmupCalls: 0,
      });
      const after = await fleet.stats();
      const made = calls.calls + (calls.firstMs !== undefined ? 1 : 0);
      return {
        ...base,
        status: calls.errors || lists.errors ? 'failed' : 'ok',
        note: calls.firstError ?? lists.firstError,
        toolsListed,
        pages,
        coldMs: lists.firstMs,
        warm: lists.latency,
        proof: {
          calls: made,
          upstreamListsBefore: before.toolsList,
          upstreamListsAfter: after.toolsList,
          upstreamCallsDelta: after.toolsCall - before.toolsCall,
        },
      };
    },
    (note) => ({ ...base, status: 'failed', note }),
  );
}
