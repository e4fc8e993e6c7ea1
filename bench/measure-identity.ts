/**
 * Virtual keys at scale (issue 12's performance goals), standalone:
 *   npx tsx bench/measure-identity.ts [--keys 10000] [--teams 1000] [--orgs 100] [--ms 8000] [--rounds 4] [--lists 1000]
 * Loads that many keys, teams and organizations, with per-tool grants, into a fresh embedded store,
 * starts the built Toolgate (dist/) on it in front of three echo servers (50 tools each), and measures
 * through `/mcp`, with the master key and with one of the virtual keys:
 *   - tools/call p50 (goal: the virtual key adds at most 0.05 ms),
 *   - aggregated tools/list p50, filtered per key vs unfiltered (goal: at most 1.2x).
 * Run it on a quiet machine: both paths share the rounds, in rotating order, so background load lands on both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashKey } from '../src/caller/key-format.js';
import { openStore } from '../src/store/open.js';
import { buildToolgate, startEchoFleet, startToolgate } from './launch.js';
import { comparePaths } from './measure-paths.js';
import { installCleanup, stopProcess } from './processes.js';
import { runLoad } from './loadrun.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000' },
    teams: { type: 'string', default: '1000' },
    orgs: { type: 'string', default: '100' },
    ms: { type: 'string', default: '8000' },
    rounds: { type: 'string', default: '4' },
    lists: { type: 'string', default: '1000' },
  },
});
const KEYS = Number(values.keys);
const TEAMS = Number(values.teams);
const ORGS = Number(values.orgs);
const TOOLS = 50;
const SERVERS = ['echo', 'echo2', 'echo3'];
const MEASURED_KEY = 'sk-bench-virtual-key-000000000000';
const log = (s: string) => void process.stderr.write(`${s}\n`);

/** Every key, team and organization in three statements; each grants the servers and, per server, half of its tools. */
async function loadIdentities(dataDir: string): Promise<void> {
  const store = await openStore({ dataDir });
  const granted = Array.from({ length: TOOLS / 2 }, (_, i) => (i === 0 ? 'echo' : `tool_${String(i * 2 + 1).padStart(3, '0')}`));
  const perm = JSON.stringify({ mcp_servers: SERVERS, mcp_tool_permissions: Object.fromEntries(SERVERS.map((s) => [s, granted])) });
  await store.query(
    `INSERT INTO toolgate_organizations (organization_id, organization_alias, object_permission)
     SELECT 'org-' || i, 'org ' || i, $1::jsonb FROM generate_series(1, $2::int) i`,
    [JSON.stringify({ mcp_servers: SERVERS }), ORGS],
  );
  await store.query(
    `INSERT INTO toolgate_teams (team_id, team_alias, organization_id, object_permission)
     SELECT 'team-' || i, 'team ' || i, 'org-' || (1 + i % $2::int), $1::jsonb FROM generate_series(1, $3::int) i`,
    [perm, ORGS, TEAMS],
  );
  await store.query(
    `INSERT INTO toolgate_keys (token, key_name, key_alias, team_id, object_permission)
     SELECT md5('k' || i) || md5('x' || i), 'sk-...' || lpad(i::text, 4, '0'), 'bench-' || i, 'team-' || (1 + i % $2::int), $1::jsonb
     FROM generate_series(1, $3::int) i`,
    [perm, TEAMS, KEYS - 1],
  );
  await store.query(
    `INSERT INTO toolgate_keys (token, key_name, key_alias, team_id, object_permission) VALUES ($1, 'sk-...0000', 'bench-measured', 'team-1', $2::jsonb)`,
    [hashKey(MEASURED_KEY), perm],
  );
  await store.close();
}

async function main(): Promise<void> {
  installCleanup();
  buildToolgate();
  const dataDir = await mkdtemp(join(tmpdir(), 'toolgate-bench-identity-'));
  log(`loading ${KEYS} keys, ${TEAMS} teams, ${ORGS} organizations`);
  await loadIdentities(dataDir);
  const fleet = await startEchoFleet(SERVERS.length, TOOLS);
  const tg = await startToolgate('identity', Object.fromEntries(SERVERS.map((s, i) => [s, { url: fleet.urls[i]! }])), {
    data_dir: dataDir,
  });
  try {
    const url = `${tg.base}/mcp`;
    const virtual = { authorization: `Bearer ${MEASURED_KEY}` };
    const budget = { concurrency: 1, msPerPath: Number(values.ms), rounds: Number(values.rounds), maxCallsPerRun: 200_000 };
    const [master, keyed] = await comparePaths(
      [
        { id: 'master', label: 'tools/call /mcp, master key', kind: 'toolgate', url, headers: tg.headers, tool: 'echo-echo' },
        { id: 'virtual', label: 'tools/call /mcp, virtual key', kind: 'toolgate', url, headers: virtual, tool: 'echo-echo' },
      ],
      budget,
      log,
    );
    const lists = Number(values.lists);
    const listP50 = async (headers: Record<string, string>) =>
      (await runLoad({ url, headers, mode: 'list', concurrency: 1, durationMs: 60_000, maxCalls: lists, warmupCalls: 20 })).latency?.p50;
    // Alternating, twice each, so drift lands on both.
    const unfiltered = [await listP50(tg.headers), await listP50(virtual)];
    const filtered = [await listP50(virtual), await listP50(tg.headers)];
    const all = (unfiltered[0]! + filtered[1]!) / 2;
    const mine = (unfiltered[1]! + filtered[0]!) / 2;
    const added = keyed!.latency!.p50 - master!.latency!.p50;
    const rows = [
      [
        'identities loaded',
        `${KEYS} keys, ${TEAMS} teams, ${ORGS} organizations, per-tool grants (${TOOLS / 2} of ${TOOLS} tools per server)`,
      ],
      ['tools/call p50, master key', `${master!.latency!.p50.toFixed(3)} ms (${master!.calls} calls)`],
      ['tools/call p50, virtual key', `${keyed!.latency!.p50.toFixed(3)} ms (${keyed!.calls} calls)`],
      ['added by the virtual key (goal ≤ 0.05 ms)', `${added.toFixed(3)} ms — ${added <= 0.05 ? 'MET' : 'missed'}`],
      ['aggregated tools/list p50, unfiltered (master)', `${all.toFixed(3)} ms`],
      ['aggregated tools/list p50, filtered per key', `${mine.toFixed(3)} ms`],
      ['filtered / unfiltered (goal ≤ 1.2x)', `${(mine / all).toFixed(2)}x — ${mine / all <= 1.2 ? 'MET' : 'missed'}`],
    ];
    process.stdout.write(`| measure | value |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`);
  } finally {
    await stopProcess(tg.proc);
    await stopProcess(fleet.proc);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
