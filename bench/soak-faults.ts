/**
 * The fault schedule, as fractions of the load's duration so that a short run still goes through every
 * fault: an HTTP upstream killed and restarted on its port, the stdio children of one server stopped and
 * continued, a slow reader on the chatty server's GET stream, and a stretch of garbage answers. Every step
 * lands on the timeline; each fault's window is what the report judges errors and recovery against.
 */
import type { Pool } from 'undici';

import { sleep } from './processes.js';
import { stdioChildren } from './soak-census.js';
import type { Recorder } from './soak-load.js';
import type { ServerName, Upstreams } from './soak-rig.js';
import { SlowReader, type ProbeOutcome } from './soak-slow-reader.js';

export interface TimelineEvent {
  /** ms since the load began. */
  t: number;
  text: string;
}

export class Timeline {
  readonly events: TimelineEvent[] = [];
  constructor(private readonly rec: Recorder) {}
  add(text: string): void {
    this.events.push({ t: this.rec.now(), text });
    process.stderr.write(`  [${(this.rec.now() / 1000).toFixed(1)} s] ${text}\n`);
  }
}

export interface FaultWindow {
  fault: string;
  server: ServerName;
  from: number;
  /** When the fault was healed (the server back, the child continued, the garbage off); undefined if never. */
  to?: number;
}

export interface SlowReaderOutcome {
  openedAt?: number;
  outcome: ProbeOutcome | 'not opened';
  /** When the probe first saw the gateway let go of it. */
  releasedAt?: number;
  error?: string;
}

export interface FaultContext {
  upstreams: Upstreams;
  gatewayPid: number;
  base: string;
  auth: Record<string, string>;
  pool: Pool;
  rec: Recorder;
  timeline: Timeline;
  durationMs: number;
  stopped: () => boolean;
}

/** How long a fault lasts: a share of the run, within bounds that keep it meaningful in short and long runs. */
const span = (durationMs: number, share: number, minMs: number, maxMs: number): number =>
  Math.min(maxMs, Math.max(minMs, durationMs * share));

async function at(ctx: FaultContext, fraction: number): Promise<boolean> {
  const when = ctx.durationMs * fraction;
  while (!ctx.stopped() && ctx.rec.now() < when) await sleep(Math.min(250, when - ctx.rec.now()));
  return !ctx.stopped();
}

async function restartHttp(ctx: FaultContext, windows: FaultWindow[]): Promise<void> {
  if (!(await at(ctx, 0.15))) return;
  const target = ctx.upstreams.httpRestarted;
  const w: FaultWindow = { fault: 'killed and restarted on its port', server: 'http_restarted', from: ctx.rec.now() };
  windows.push(w);
  ctx.timeline.add(`kill http_restarted (server-everything streamableHttp, pid ${target.proc.pid}, port ${target.port})`);
  await target.kill();
  await sleep(span(ctx.durationMs, 0.05, 3_000, 30_000));
  await target.restart();
  w.to = ctx.rec.now();
  ctx.timeline.add(`http_restarted listening again on port ${target.port} (pid ${target.proc.pid})`);
}

async function stopStdio(ctx: FaultContext, windows: FaultWindow[]): Promise<void> {
  if (!(await at(ctx, 0.3))) return;
  // The gateway may be between children (a restart, a backoff): give it a moment to have one.
  let pids = stdioChildren(ctx.gatewayPid, 'stdio_hung');
  for (let i = 0; i < 20 && !pids.length; i++) {
    await sleep(500);
    pids = stdioChildren(ctx.gatewayPid, 'stdio_hung');
  }
  const w: FaultWindow = { fault: 'children SIGSTOPped, then SIGCONTinued', server: 'stdio_hung', from: ctx.rec.now() };
  windows.push(w);
  for (const pid of pids) signal(pid, 'SIGSTOP');
  ctx.timeline.add(`SIGSTOP stdio_hung children (pids ${pids.join(', ') || 'none found'})`);
  // Longer than the server's 10 s timeout, so that calls do time out while it is stopped.
  await sleep(span(ctx.durationMs, 0.06, 15_000, 40_000));
  const gone = pids.filter((pid) => !signal(pid, 'SIGCONT'));
  w.to = ctx.rec.now();
  ctx.timeline.add(`SIGCONT stdio_hung children${gone.length ? ` (already gone: ${gone.join(', ')})` : ''}`);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

async function slowReader(ctx: FaultContext, out: SlowReaderOutcome, holder: { reader?: SlowReader }): Promise<void> {
  if (!(await at(ctx, 0.45))) return;
  try {
    holder.reader = await SlowReader.open(ctx.pool, ctx.base, '/mcp/chatty', ctx.auth, () => ctx.rec.now());
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    ctx.timeline.add(`slow reader could not open: ${out.error}`);
    return;
  }
  out.openedAt = ctx.rec.now();
  out.outcome = 'still attached';
  ctx.timeline.add('slow reader opened its GET stream on /mcp/chatty and stopped reading');
  // Probing until the end of the census: the gateway may let go only after the session TTL.
  while (!holder.reader.destroyed) {
    await sleep(5_000);
    if (holder.reader.destroyed) return;
    const outcome = await holder.reader.probe();
    if (outcome === 'probe failed') continue;
    out.outcome = outcome;
    if (outcome !== 'still attached') {
      out.releasedAt = ctx.rec.now();
      ctx.timeline.add(`slow reader: ${outcome}`);
      return;
    }
  }
}

async function garbage(ctx: FaultContext, windows: FaultWindow[]): Promise<void> {
  if (!(await at(ctx, 0.65))) return;
  const w: FaultWindow = { fault: 'answers nonsense for a while', server: 'garbage', from: ctx.rec.now() };
  windows.push(w);
  await ctx.upstreams.fixtures.garbage(true);
  ctx.timeline.add('garbage upstream starts answering nonsense (12 kinds in turn)');
  await sleep(span(ctx.durationMs, 0.1, 6_000, 60_000));
  await ctx.upstreams.fixtures.garbage(false);
  w.to = ctx.rec.now();
  const stats = await ctx.upstreams.fixtures.stats('garbage');
  ctx.timeline.add(`garbage upstream answers properly again (${stats.garbageAnswers} nonsense answers sent)`);
}

export interface Faults {
  windows: FaultWindow[];
  slowReader: SlowReaderOutcome;
  /** Resolves when every scheduled fault has been injected and healed. */
  injected: Promise<void>;
  /** Ends the slow reader (after the final census) and stops probing. */
  releaseSlowReader(): void;
}

export function scheduleFaults(ctx: FaultContext): Faults {
  const windows: FaultWindow[] = [];
  const out: SlowReaderOutcome = { outcome: 'not opened' };
  const holder: { reader?: SlowReader } = {};
  const report = (what: string) => (err: unknown) =>
    ctx.timeline.add(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  void slowReader(ctx, out, holder).catch(report('slow reader'));
  const injected = Promise.all([
    restartHttp(ctx, windows).catch(report('restart')),
    stopStdio(ctx, windows).catch(report('SIGSTOP')),
    garbage(ctx, windows).catch(report('garbage')),
  ]).then(() => {});
  return {
    windows,
    slowReader: out,
    injected,
    releaseSlowReader() {
      holder.reader?.destroy();
    },
  };
}
