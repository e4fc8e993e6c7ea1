/**
 * `npm run soak [-- --minutes N] [--interval-ms MS] [--no-build]`: Toolgate, through its CLI contract, in
 * front of stdio, Streamable HTTP and SSE upstreams under a fixed load for N minutes (default 10), with
 * faults injected on a schedule (soak-faults.ts). Measures honestly and reports; it never fails a run for
 * missing a goal. The report is printed and written to bench/SOAK.md. Never part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

import { ROOT, buildToolgate, startToolgate, type Toolgate } from './launch.js';
import { installCleanup, rssBytes, sleep, stopAll, stopProcess } from './processes.js';
import { backToIdle, readiness, takeCensus, type Census } from './soak-census.js';
import { scheduleFaults, Timeline } from './soak-faults.js';
import { Recorder, startLoad, type WorkerSpec } from './soak-load.js';
import { renderSoak, type SoakRun } from './soak-report.js';
import { FAULTED, HEALTHY, onLines, serverEntries, startUpstreams, stopUpstreams, type Upstreams } from './soak-rig.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: '250' },
    'churn-calls': { type: 'string', default: '150' },
    'chatty-bytes': { type: 'string', default: '8192' },
    'chatty-every-ms': { type: 'string', default: '20' },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'SOAK.md') },
  },
});
const minutes = Number(values.minutes);
const intervalMs = Number(values['interval-ms']);
const churnCalls = Number(values['churn-calls']);
if (!(minutes > 0) || !(intervalMs > 0) || !(churnCalls > 0)) {
  process.stderr.write('soak: --minutes, --interval-ms and --churn-calls must be positive numbers\n');
  process.exit(2);
}
const durationMs = minutes * 60_000;
// Short enough that the end of a run can wait it out, long enough not to expire sessions that are in use.
const ttlSeconds = Math.round(Math.min(60, Math.max(20, durationMs / 10_000)));
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** With sampling declared, a client gets an upstream session of its own (a stdio child, for stdio servers). */
function workers(): WorkerSpec[] {
  const specs: WorkerSpec[] = [];
  for (const target of [...HEALTHY, ...FAULTED]) {
    const base = { target, path: `/mcp/${target}`, intervalMs, churnCalls };
    specs.push({ ...base, capabilities: {} });
    if (target !== 'chatty') specs.push({ ...base, capabilities: { sampling: {} } });
  }
  specs.push({ target: 'aggregate', path: '/mcp', capabilities: {}, intervalMs, churnCalls });
  return specs;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Counts the gateway's warn/error/fatal log lines (pino JSON), keeping their messages. */
function watchGatewayLog(tg: Toolgate): SoakRun['gatewayLogs'] {
  const logs: SoakRun['gatewayLogs'] = { warn: 0, error: 0, fatal: 0, top: new Map() };
  onLines(tg.proc.child.stdout, (line) => {
    const level = Number(line.match(/"level":(\d+)/)?.[1] ?? 0);
    if (level < 40) return;
    if (level >= 60) logs.fatal++;
    else if (level >= 50) logs.error++;
    else logs.warn++;
    const msg = (line.match(/"msg":"((?:[^"\\]|\\.)*)"/)?.[1] ?? line).replace(/\d+/g, 'N').slice(0, 160);
    logs.top.set(msg, (logs.top.get(msg) ?? 0) + 1);
  });
  return logs;
}

async function main(): Promise<void> {
  installCleanup();
  const startedAt = new Date().toISOString();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  if (!values['no-build']) {
    log('building dist/ (npm run build)');
    buildToolgate();
  }
  let upstreams: Upstreams | undefined;
  let tg: Toolgate | undefined;
  try {
    log('starting the upstreams');
    upstreams = await startUpstreams(Number(values['chatty-bytes']), Number(values['chatty-every-ms']));
    tg = await startToolgate('soak', serverEntries(upstreams), { session_ttl_seconds: ttlSeconds });
    const gateway = tg;
    const u = upstreams;
    const gatewayLogs = watchGatewayLog(gateway);
    const auth = gateway.headers;
    // Idle means every upstream up with its warm default session: readiness answers as soon as each was
    // tried, and a stdio child can take a while to start on a busy machine.
    const upBy = performance.now() + 60_000;
    let status = (await readiness(gateway.base))?.status;
    while (status !== 'healthy' && performance.now() < upBy) {
      await sleep(1_000);
      status = (await readiness(gateway.base))?.status;
    }
    if (status !== 'healthy') log(`readiness still ${status} after 60 s; measuring idle anyway`);
    await sleep(2_000);
    const idle = await takeCensus(gateway.proc.pid, gateway.base, u);
    log(`idle: ${JSON.stringify(idle)}`);

    const rec = new Recorder();
    const timeline = new Timeline(rec);
    let gatewayExit: string | undefined;
    void gateway.proc.exited.then((code) => {
      gatewayExit = `exited with code ${code} at ${(rec.now() / 1000).toFixed(1)} s`;
      timeline.add(`gateway ${gatewayExit}`);
    });
    let sampling = true;
    const rss: SoakRun['rss'] = [];
    const ready: SoakRun['readiness'] = [];
    const samplers = (async () => {
      let last: Record<string, string> = {};
      for (let i = 0; sampling && !gatewayExit; i++) {
        if (i % 5 === 0) rss.push({ t: rec.now(), rssBytes: await rssBytes(gateway.proc.pid).catch(() => 0) });
        const r = await readiness(gateway.base);
        const states = Object.fromEntries(Object.entries(r?.servers ?? {}).map(([name, s]) => [name, s.state]));
        ready.push({ t: rec.now(), states });
        for (const [name, state] of Object.entries(states)) {
          if (last[name] !== undefined && last[name] !== state) timeline.add(`readiness: ${name} ${last[name]} → ${state}`);
        }
        last = states;
        await sleep(1_000);
      }
    })();

    const specs = workers();
    const loadDesc = `${specs.length} clients (one raw and one with sampling per server, one SDK client on the aggregate /mcp), each calling echo every ${intervalMs} ms, a new session every ${churnCalls} calls (alternately DELETE and walk away); chatty pushes ${values['chatty-bytes']} B every ${values['chatty-every-ms']} ms`;
    timeline.add(`load starts: ${specs.length} clients`);
    const load = startLoad(gateway.base, auth, specs, HEALTHY, rec);
    const pool = new Pool(gateway.base, { connections: 4 });
    let stopping = false;
    const faults = scheduleFaults({
      upstreams: u,
      gatewayPid: gateway.proc.pid,
      base: gateway.base,
      auth,
      pool,
      rec,
      timeline,
      durationMs,
      stopped: () => stopping || gatewayExit !== undefined,
    });
    while (rec.now() < durationMs && !gatewayExit) await sleep(500);
    stopping = true;
    await faults.injected;
    await load.stop();
    timeline.add('load stopped; every client ended its session');

    const census = async (what: string): Promise<Census | undefined> => {
      if (gatewayExit) return undefined;
      const c = await takeCensus(gateway.proc.pid, gateway.base, u);
      log(`${what}: ${JSON.stringify(c)}`);
      return c;
    };
    /** Polls until the counts are back to idle or the TTL (plus a sweep and some slack) has passed. */
    const settle = async (first: Census | undefined): Promise<{ census?: Census; afterMs?: number }> => {
      const from = rec.now();
      const by = from + ttlSeconds * 1250 + 10_000;
      let c = first;
      while (c && !backToIdle(c, idle) && rec.now() < by) {
        await sleep(2_000);
        c = await census('settling');
      }
      const afterMs = c && backToIdle(c, idle) ? rec.now() - from : undefined;
      timeline.add(afterMs !== undefined ? 'back to the idle counts' : 'not back to the idle counts by the deadline');
      return { census: c, afterMs };
    };
    const endOfLoad = await census('end of load');
    const { census: settled, afterMs: settledAfterMs } = await settle(endOfLoad);
    let afterSlowReader: { census?: Census; afterMs?: number } | undefined;
    if (faults.slowReader.outcome === 'still attached') {
      faults.releaseSlowReader();
      timeline.add('the slow reader hangs up (the soak ends it)');
      afterSlowReader = await settle(await census('after the slow reader'));
    } else faults.releaseSlowReader();
    sampling = false;
    await samplers;
    await pool.close();

    const report = renderSoak({
      command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
      startedAt,
      machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average before / after: ${loadBefore} / ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (a shared machine: other work adds noise)`,
      versions: `node ${process.version}, toolgate ${gitCommit()} (dist/ built from this checkout)`,
      minutes,
      load: loadDesc,
      ttlSeconds,
      rec,
      idle,
      idleStatus: status ?? 'no answer',
      endOfLoad,
      settled,
      settledAfterMs,
      afterSlowReader: afterSlowReader?.census,
      afterSlowReaderMs: afterSlowReader?.afterMs,
      rss,
      readiness: ready,
      windows: faults.windows,
      slowReader: faults.slowReader,
      timeline: timeline.events,
      gatewayLogs,
      gatewayExit,
      secret: auth.authorization!.replace(/^Bearer /, ''),
    });
    process.stdout.write(report);
    await writeFile(values.out!, report);
    log(`written to ${values.out}`);
  } finally {
    if (tg) await stopProcess(tg.proc, 10_000);
    if (upstreams) await stopUpstreams(upstreams);
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
