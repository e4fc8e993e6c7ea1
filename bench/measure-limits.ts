/**
 * What the stages after access add to a tools/call (issue 14: "limits, budgets and one regex guardrail
 * all on"): the same gateway and echo server, a key with none of them against a key (and its team) with
 * every limit kind set high enough never to refuse, a budget, and a regex guardrail attached to the key,
 * with counters in memory and on Redis. Targets: at most 0.1 ms added p50 in memory, 0.4 ms on Redis.
 *   npx tsx bench/measure-limits.ts [--ms 4000] [--rounds 2] [--c 1,16]     (alone; `npm run bench` runs it too)
 * Redis: REDIS_URL, else 127.0.0.1:6379; without one the Redis rows read "not available".
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { TMP, startEchoFleet, startToolgate, type Toolgate } from './launch.js';
import { comparePaths, type PathDef } from './measure-paths.js';
import { installCleanup, stopAll, stopProcess } from './processes.js';
import { pathTable, row } from './report.js';
import type { PathRow, Target } from './results.js';

/** High enough that the benchmark never hits them: every call pays for the check, none is refused. */
const NEVER = 1_000_000_000;
const LIMITS = {
  rpm_limit: NEVER,
  max_parallel_requests: 10_000,
  mcp_rpm_limit: { echo: NEVER },
  mcp_tool_rpm_limit: { 'echo/echo': NEVER },
  max_budget: NEVER,
  budget_duration: '30d',
};
/** One regex guardrail, on for the keys that name it (the limited key), checking arguments and results. */
const GUARDRAILS = {
  guardrails: [
    {
      guardrail_name: 'bench-regex',
      litellm_params: {
        guardrail: 'toolgate_regex',
        mode: ['pre_mcp_call', 'post_mcp_call'],
        default_on: false,
        patterns: ['(?:ignore|disregard) (?:all )?previous instructions'],
      },
    },
  ],
};

export interface LimitsPlan {
  concurrencies: number[];
  msPerPath: number;
  rounds: number;
}

async function post(gw: Toolgate, path: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(gw.base + path, {
    method: 'POST',
    headers: { ...gw.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

/** Two virtual keys on one gateway: one with no limits, one whose key and team carry every kind (8 counters a call). */
async function keys(gw: Toolgate): Promise<{ none: string; limited: string }> {
  const team = await post(gw, '/team/new', LIMITS);
  const none = await post(gw, '/key/generate', {});
  const limited = await post(gw, '/key/generate', { team_id: team.team_id, ...LIMITS, guardrails: ['bench-regex'] });
  return { none: none.key!, limited: limited.key! };
}

async function redisReachable(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return `no Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    r.disconnect();
  }
}

export async function measureLimits(plan: LimitsPlan, log: (s: string) => void): Promise<{ rows: PathRow[]; targets: Target[] }> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `toolgate:bench-${randomBytes(4).toString('hex')}:`;
  await mkdir(TMP, { recursive: true });
  const fleet = await startEchoFleet(1, 1);
  const echo = { echo: { url: fleet.urls[0]! } };
  const dirs = [await mkdtemp(join(TMP, 'limits-memory-')), await mkdtemp(join(TMP, 'limits-redis-'))];
  const memory = await startToolgate('limits-memory', echo, { data_dir: dirs[0] }, GUARDRAILS);
  const redisMissing = await redisReachable(redisUrl);
  const redis = redisMissing
    ? undefined
    : await startToolgate('limits-redis', echo, { data_dir: dirs[1], rate_limit_redis_prefix: prefix }, GUARDRAILS, {
        REDIS_URL: redisUrl,
      });
  try {
    const mk = await keys(memory);
    const rk = redis && (await keys(redis));
    const path = (id: string, label: string, gw: Toolgate | undefined, key: string | undefined): PathDef => ({
      id,
      label,
      kind: 'toolgate',
      url: gw && `${gw.base}/mcp/echo`,
      headers: key ? { authorization: `Bearer ${key}` } : undefined,
      note: gw ? undefined : redisMissing,
      tool: 'echo',
    });
    const paths = [
      path('limits-none', 'none of them (memory gateway)', memory, mk.none),
      path('limits-memory', 'limits, budget, regex guardrail; counters in memory', memory, mk.limited),
      path('limits-none-redis', 'none of them (Redis gateway)', redis, rk?.none),
      path('limits-redis', 'limits, budget, regex guardrail; counters on Redis', redis, rk?.limited),
    ];
    const rows: PathRow[] = [];
    for (const c of plan.concurrencies) {
      rows.push(
        ...(await comparePaths(paths, { concurrency: c, msPerPath: plan.msPerPath, rounds: plan.rounds, maxCallsPerRun: 200_000 }, log)),
      );
    }
    return { rows, targets: limitTargets(rows) };
  } finally {
    for (const p of [memory, redis, fleet]) if (p) await stopProcess(p.proc);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    if (!redisMissing) {
      const r = new Redis(redisUrl);
      const left = await r.keys(prefix + '*');
      if (left.length) await r.del(...left);
      r.disconnect();
    }
  }
}

/** Added p50 at c=1 of each limited path over the same gateway's unlimited key. */
export function limitTargets(rows: PathRow[]): Target[] {
  const out: Target[] = [];
  for (const [id, base, label, goal] of [
    ['limits-memory', 'limits-none', 'limits + budget + regex guardrail, counters in memory: added p50, c=1', 0.1],
    ['limits-redis', 'limits-none-redis', 'limits + budget + regex guardrail, counters on Redis: added p50, c=1', 0.4],
  ] as const) {
    const a = row(rows, id, 1)?.latency?.p50;
    const b = row(rows, base, 1)?.latency?.p50;
    const added = a !== undefined && b !== undefined ? a - b : undefined;
    out.push({
      measure: label,
      goal: `≤ ${goal} ms`,
      value: added === undefined ? 'n/a' : `${added >= 0 ? '+' : ''}${added.toFixed(3)} ms`,
      verdict: added === undefined ? 'n/a' : added <= goal ? 'MET' : 'MISSED',
    });
  }
  return out;
}

/** The RESULTS.md section: one table per concurrency, added = over the unlimited key on the memory gateway. */
export function renderLimits(rows: PathRow[]): string[] {
  const L = [
    '## Limits, budgets and a guardrail (issue 14)',
    '',
    'Latency in ms. *added* = path minus "none of them (memory gateway)" at the same percentile.',
    '',
  ];
  for (const c of [...new Set(rows.map((r) => r.concurrency))]) {
    const at = rows.filter((r) => r.concurrency === c);
    L.push(`concurrency ${c}`, '', ...pathTable(at, row(at, 'limits-none', c), undefined), '');
  }
  return L;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { ms: { type: 'string', default: '4000' }, rounds: { type: 'string', default: '2' }, c: { type: 'string', default: '1,16' } },
  });
  const concurrencies = values.c.split(',').map(Number);
  installCleanup();
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  measureLimits({ concurrencies, msPerPath: Number(values.ms), rounds: Number(values.rounds) }, log)
    .then(({ rows, targets }) => {
      process.stdout.write(renderLimits(rows).join('\n') + '\n');
      for (const t of targets) process.stdout.write(`${t.verdict.padEnd(6)} ${t.measure}: ${t.value} (target ${t.goal})\n`);
    })
    .catch((err: unknown) => {
      log(`measure-limits failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    })
    .finally(() => stopAll());
}
