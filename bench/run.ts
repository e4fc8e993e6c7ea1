/**
 * `npm run bench [-- --quick | --render]`: every measure of issue 6 side by side in one run, then RESULTS.md,
 * results.json and latency.svg. Every process started here is stopped at the end, also on error or Ctrl-C.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

import { latencyChart } from './chart.js';
import {
  NGINX,
  NGINX_INSTALL,
  ROOT,
  TMP,
  STDIO_ECHO_ARGV,
  buildToolgate,
  nginxAvailable,
  startNodeProxy,
  startEchoFleet,
  startMcpProxy,
  startNginx,
  startSupergateway,
  startToolgate,
  toolgateAvailable,
  type Proxy,
} from './launch.js';
import { comparePaths, type PathBudget, type PathDef } from './measure-paths.js';
import { measureListing } from './measure-listing.js';
import { measureMemory } from './measure-memory.js';
import { measureLimits, renderLimits } from './measure-limits.js';
import { measureStartup } from './measure-startup.js';
import { installCleanup, stopAll, stopProcess } from './processes.js';
import { renderMarkdown, row, targets } from './report.js';
import type { PathRow, Results } from './results.js';

const quick = process.argv.includes('--quick');
const THROUGHPUT_C = 16;
const PLAN = quick
  ? {
      concurrencies: [1, 16],
      httpMs: 1000,
      stdioMs: 1000,
      rounds: 1,
      listing: { servers: 50, toolsPerServer: 100, warmLists: 50, proofCalls: 200 },
      sessions: [1, 200, 1000],
      startupRuns: 2,
      peerStartupRuns: 1,
    }
  : {
      concurrencies: [1, 16],
      httpMs: 8000,
      stdioMs: 5000,
      rounds: 4,
      listing: { servers: 50, toolsPerServer: 100, warmLists: 1000, proofCalls: 1000 },
      sessions: [1, 1000, 10000],
      startupRuns: 5,
      peerStartupRuns: 3,
    };
const TTL_SECONDS = 5;
/** Issue 14's performance case: one regex guardrail, on for every caller, checking arguments and results. */
const REGEX_GUARDRAIL = {
  guardrail_name: 'bench-regex',
  litellm_params: {
    guardrail: 'toolgate_regex',
    mode: ['pre_mcp_call', 'post_mcp_call'],
    default_on: true,
    patterns: ['(?:ignore|disregard) (?:all )?previous instructions'],
  },
};

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const NOT_YET = 'src/cli/main.ts does not exist yet';

/** Starts one proxy for a path; on failure the path is reported with the reason instead of aborting the run. */
async function attempt<T>(what: string, start: () => Promise<T>): Promise<{ ok?: T; note?: string }> {
  try {
    return { ok: await start() };
  } catch (err) {
    log(`  ${what}: ${message(err).split('\n')[0]}`);
    return { note: message(err) };
  }
}

async function measureHttp(): Promise<PathRow[]> {
  log('tools/call over HTTP: direct, nginx, Node floor, Toolgate /mcp/echo, Toolgate /mcp');
  const fleet = await startEchoFleet(3, 1);
  const [u1, u2, u3] = fleet.urls as [string, string, string];
  const nginx = nginxAvailable()
    ? await attempt('nginx', () => startNginx(u1))
    : { note: `${NGINX} not found; install it with: ${NGINX_INSTALL}` };
  const nodeProxy = await attempt('node-proxy', () => startNodeProxy(u1));
  const tg = toolgateAvailable()
    ? await attempt('toolgate', () => startToolgate('http', { echo: { url: u1 }, echo2: { url: u2 }, echo3: { url: u3 } }))
    : { note: NOT_YET };
  // The same /mcp/echo with one regex guardrail on every call (arguments before, result after).
  const guarded = toolgateAvailable()
    ? await attempt('toolgate-guardrail', () =>
        // A data directory of its own: the plain gateway beside it holds the default one's lock.
        startToolgate(
          'http-guardrail',
          { echo: { url: u1 } },
          { data_dir: join(TMP, 'guardrail-data') },
          { guardrails: [REGEX_GUARDRAIL] },
        ),
      )
    : { note: NOT_YET };
  const paths: PathDef[] = [
    { id: 'direct', label: 'direct to echo server', kind: 'floor', url: u1, tool: 'echo' },
    {
      id: 'nginx',
      label: 'nginx (keep-alive reverse proxy)',
      kind: 'floor',
      url: nginx.ok && `${nginx.ok.base}/mcp`,
      note: nginx.note,
      tool: 'echo',
    },
    {
      id: 'node-proxy',
      label: 'Node floor (node:http + undici pool, unparsed)',
      kind: 'floor',
      url: nodeProxy.ok && `${nodeProxy.ok.base}/mcp`,
      note: nodeProxy.note,
      tool: 'echo',
    },
    {
      id: 'toolgate-server',
      label: 'Toolgate /mcp/echo',
      kind: 'toolgate',
      url: tg.ok && `${tg.ok.base}/mcp/echo`,
      headers: tg.ok?.headers,
      note: tg.note,
      tool: 'echo',
    },
    {
      id: 'toolgate-aggregate',
      label: 'Toolgate /mcp (3 servers, echo-echo)',
      kind: 'toolgate',
      url: tg.ok && `${tg.ok.base}/mcp`,
      headers: tg.ok?.headers,
      note: tg.note,
      tool: 'echo-echo',
    },
    {
      id: 'toolgate-guardrail',
      label: 'Toolgate /mcp/echo, one regex guardrail (pre + post)',
      kind: 'toolgate',
      url: guarded.ok && `${guarded.ok.base}/mcp/echo`,
      headers: guarded.ok?.headers,
      note: guarded.note,
      tool: 'echo',
    },
  ];
  const rows: PathRow[] = [];
  for (const c of PLAN.concurrencies) rows.push(...(await comparePaths(paths, budget(c, PLAN.httpMs), log)));
  for (const p of [tg.ok, guarded.ok, nginx.ok, nodeProxy.ok, fleet] as Array<Proxy | undefined>) if (p) await stopProcess(p.proc);
  return rows;
}

function budget(concurrency: number, msPerPath: number): PathBudget {
  return { concurrency, msPerPath, rounds: PLAN.rounds, maxCallsPerRun: 200_000 };
}

async function measureStdio(): Promise<PathRow[]> {
  log('stdio upstream over Streamable HTTP: Toolgate, mcp-proxy, supergateway');
  const [, ...echoArgs] = STDIO_ECHO_ARGV;
  const tg = toolgateAvailable()
    ? await attempt('toolgate', () => startToolgate('stdio', { echo: { command: process.execPath, args: echoArgs, transport: 'stdio' } }))
    : { note: NOT_YET };
  const mp = await attempt('mcp-proxy', startMcpProxy);
  const sg = await attempt('supergateway', startSupergateway);
  const paths: PathDef[] = [
    {
      id: 'toolgate-stdio',
      label: 'Toolgate /mcp/echo (stdio)',
      kind: 'toolgate',
      url: tg.ok && `${tg.ok.base}/mcp/echo`,
      headers: tg.ok?.headers,
      note: tg.note,
      tool: 'echo',
    },
    {
      id: 'mcp-proxy',
      label: `mcp-proxy ${pkgVersion('mcp-proxy')}`,
      kind: 'peer',
      url: mp.ok && `${mp.ok.base}/mcp`,
      note: mp.note,
      tool: 'echo',
    },
    {
      id: 'supergateway',
      label: `supergateway ${pkgVersion('supergateway')} --stateful`,
      kind: 'peer',
      url: sg.ok && `${sg.ok.base}/mcp`,
      note: sg.note,
      tool: 'echo',
    },
  ];
  const rows: PathRow[] = [];
  for (const c of PLAN.concurrencies) rows.push(...(await comparePaths(paths, budget(c, PLAN.stdioMs), log)));
  for (const p of [tg.ok, mp.ok, sg.ok]) if (p) await stopProcess(p.proc);
  return rows;
}

function pkgVersion(name: string): string {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'missing';
}

function versions(): Record<string, string> {
  const v: Record<string, string> = { node: process.version };
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout.
  }
  v.toolgate = `${own.version}${commit ? ` (${commit})` : ''}${toolgateAvailable() ? '' : ' — gateway not built yet'}`;
  for (const name of ['undici', 'tsx', 'mcp-proxy', 'supergateway', '@modelcontextprotocol/server-everything']) v[name] = pkgVersion(name);
  if (nginxAvailable()) {
    const out = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
    v.nginx = (out.stderr || out.stdout).trim().replace(/^nginx version: nginx\//, '');
  } else v.nginx = 'not installed';
  return v;
}

function machine(): Omit<Results['machine'], 'loadAfter'> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? 'unknown',
    memoryGiB: os.totalmem() / 2 ** 30,
    loadBefore: os.loadavg(),
    os: `${os.type()} ${os.release()}`,
  };
}

/** RESULTS.md and latency.svg from results.json, e.g. after editing bench/findings.md, without measuring again. */
async function writeReports(results: Results): Promise<void> {
  const findingsFile = join(ROOT, 'bench', 'findings.md');
  const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '';
  const limits = results.limits ? '\n' + renderLimits(results.limits).join('\n') : '';
  await writeFile(join(ROOT, 'bench', 'RESULTS.md'), renderMarkdown(results, findings) + limits);
  const concurrencies = [...new Set(results.http.map((r) => r.concurrency))];
  await writeFile(
    join(ROOT, 'bench', 'latency.svg'),
    latencyChart([
      ...concurrencies.map((c) => ({ title: `tools/call over HTTP, c=${c}`, rows: results.http.filter((r) => r.concurrency === c) })),
      { title: `stdio upstream, c=${THROUGHPUT_C}`, rows: results.stdio.filter((r) => r.concurrency === THROUGHPUT_C) },
    ]),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--render')) {
    await writeReports(JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')) as Results);
    return;
  }
  installCleanup();
  const t0 = performance.now();
  const m = machine();
  if (!nginxAvailable()) log(`nginx is not installed; its rows will be empty. Install it with: ${NGINX_INSTALL}`);
  if (!toolgateAvailable()) log(`Toolgate rows will read "not available": ${NOT_YET}`);
  else {
    log('npm run build (Toolgate is measured from dist/)');
    buildToolgate();
  }
  try {
    const http = await measureHttp();
    const stdio = await measureStdio();
    log('rate limits: none, counters in memory, counters on Redis');
    const limits = toolgateAvailable()
      ? await measureLimits({ concurrencies: PLAN.concurrencies, msPerPath: PLAN.httpMs / 2, rounds: PLAN.rounds }, log)
      : undefined;
    log('aggregated tools/list');
    const listing = await measureListing(PLAN.listing, log);
    log('memory with idle sessions');
    const memory = await measureMemory(PLAN.sessions, TTL_SECONDS, log);
    log('start to ready');
    const startup = await measureStartup(PLAN.startupRuns, PLAN.peerStartupRuns);

    const results: Results = {
      date: new Date().toISOString(),
      quick,
      durationSec: (performance.now() - t0) / 1000,
      machine: { ...m, loadAfter: os.loadavg() },
      versions: versions(),
      http,
      stdio,
      listing,
      memory,
      startup,
      targets: [],
      ...(limits && { limits: limits.rows }),
    };
    results.targets = [...targets(results, THROUGHPUT_C), ...(limits?.targets ?? [])];
    const direct = row(http, 'direct', THROUGHPUT_C)?.callsPerSec;
    const proxied = http.filter((r) => r.id !== 'direct' && r.concurrency === THROUGHPUT_C && r.callsPerSec).map((r) => r.callsPerSec!);
    if (direct && proxied.length) {
      const best = Math.max(...proxied);
      results.echoHeadroom = { directCallsPerSec: direct, bestProxiedCallsPerSec: best, ratio: direct / best };
    }
    await writeFile(join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
    await writeReports(results);
    for (const t of results.targets) log(`  ${t.verdict.padEnd(6)} ${t.measure}: ${t.value} (target ${t.goal})`);
    log(`wrote bench/RESULTS.md, bench/results.json, bench/latency.svg in ${results.durationSec.toFixed(0)} s`);
  } finally {
    await stopAll();
  }
}

main().catch(async (err: unknown) => {
  log(`bench failed: ${message(err)}`);
  await stopAll();
  process.exit(1);
});
