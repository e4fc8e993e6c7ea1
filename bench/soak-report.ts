/** Turns a soak run into its verdicts and the Markdown that is printed and written to bench/SOAK.md. */
import { beyondIdle, type Census } from './soak-census.js';
import type { FaultWindow, SlowReaderOutcome, TimelineEvent } from './soak-faults.js';
import type { Recorder } from './soak-load.js';
import { percentile } from './stats.js';
import { FAULTED, HEALTHY, STDIO_SERVERS, type ServerName } from './soak-rig.js';

export interface Sample {
  t: number;
  rssBytes: number;
}

export interface SoakRun {
  command: string;
  startedAt: string;
  machine: string;
  versions: string;
  minutes: number;
  load: string;
  ttlSeconds: number;
  rec: Recorder;
  idle: Census;
  /** Readiness when idle was measured ('healthy' unless an upstream failed to come up). */
  idleStatus: string;
  endOfLoad?: Census;
  settled?: Census;
  /** How long after the load stopped the census was back to idle, if it got there. */
  settledAfterMs?: number;
  /** The census once the slow reader hung up (only if the gateway had not let go of it), and when it was back to idle. */
  afterSlowReader?: Census;
  afterSlowReaderMs?: number;
  rss: Sample[];
  /** Readiness state per server over time, ms since the load began. */
  readiness: Array<{ t: number; states: Record<string, string> }>;
  windows: FaultWindow[];
  slowReader: SlowReaderOutcome;
  timeline: TimelineEvent[];
  gatewayLogs: { warn: number; error: number; fatal: number; top: Map<string, number> };
  gatewayExit?: string;
  /** Redacted from everything written, should any of it ever echo it. */
  secret: string;
}

const MIB = 2 ** 20;
const mib = (b: number | undefined): string => (b === undefined ? '–' : `${(b / MIB).toFixed(1)} MiB`);
const sec = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const verdict = (met: boolean): string => (met ? 'MET' : '**MISSED**');

interface TargetRow {
  target: string;
  calls: number;
  errors: number;
  inFault: number;
  outside: number;
  recovery?: string;
  /** Successful calls' latency, "p50 / p99" in ms. */
  latency: string;
  messages: Map<string, number>;
}

/**
 * Errors of a faulted server are the fault's own when the call was in flight at some point between the
 * fault's start and the first success after it was healed; recovery is the time from the heal to that success.
 */
function targetRow(run: SoakRun, target: string): TargetRow {
  const r = run.rec.of(target);
  const windows = run.windows.filter((w) => w.server === target);
  const spans = windows.map((w) => {
    const back = w.to === undefined ? undefined : r.okAt.find((t) => t > w.to!);
    return { from: w.from, until: back ?? Infinity, recoveryMs: back === undefined ? undefined : back - w.to! };
  });
  const inFault = r.errAt.filter((began, i) => spans.some((s) => began <= s.until && r.errEnd[i]! >= s.from)).length;
  const recovery = windows.length
    ? spans
        .map((s, i) => (windows[i]!.to === undefined ? 'not healed' : s.recoveryMs === undefined ? '**never**' : sec(s.recoveryMs)))
        .join(', ')
    : undefined;
  const sorted = Float64Array.from(r.okMs).sort();
  const latency = sorted.length ? `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)}` : '–';
  return {
    latency,
    target,
    calls: r.okAt.length + r.errAt.length,
    errors: r.errAt.length,
    inFault,
    outside: r.errAt.length - inFault,
    recovery,
    messages: r.messages,
  };
}

function rssAt(run: SoakRun, t: number): Sample | undefined {
  return run.rss.find((s) => s.t >= t);
}

function topMessages(m: Map<string, number>, n = 2): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([msg, c]) => `${c}× ${msg.replace(/\|/g, '\\|')}`)
    .join('<br>');
}

function readinessDuring(run: SoakRun, w: FaultWindow): string {
  const to = w.to ?? Infinity;
  const seen = new Set(run.readiness.filter((s) => s.t >= w.from && s.t <= to).map((s) => s.states[w.server] ?? '?'));
  return [...seen].join(', ') || 'not sampled';
}

function censusRows(run: SoakRun): string[] {
  const cols: Array<[string, Census | undefined]> = [
    ['idle (before load)', run.idle],
    ['end of load', run.endOfLoad],
    [`after settle (≤ TTL ${run.ttlSeconds} s + sweep)`, run.settled],
  ];
  if (run.afterSlowReader) cols.push(['after the slow reader hung up', run.afterSlowReader]);
  const line = (label: string, f: (c: Census) => string | number | undefined): string =>
    `| ${label} | ${cols.map(([, c]) => (c ? String(f(c) ?? '–') : '–')).join(' | ')} |`;
  const rows = [
    `| measure | ${cols.map(([l]) => l).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
    line('gateway RSS', (c) => mib(c.rssBytes)),
    line('gateway open file descriptors', (c) => c.fds),
    line('client sessions (readiness)', (c) => c.downstreamSessions),
  ];
  for (const s of STDIO_SERVERS) rows.push(line(`stdio children: ${s}`, (c) => c.children[s]));
  for (const s of Object.keys(run.idle.upstreamSessions) as ServerName[]) {
    rows.push(
      line(
        `upstream sessions held: ${s} (opened so far)`,
        (c) => c.upstreamSessions[s] && `${c.upstreamSessions[s].live} (${c.upstreamSessions[s].opened})`,
      ),
    );
  }
  return rows;
}

export function renderSoak(run: SoakRun): string {
  const healthy = [...HEALTHY, 'aggregate'].map((t) => targetRow(run, t));
  const faulted = FAULTED.map((t) => targetRow(run, t));
  const healthyErrors = healthy.reduce((n, r) => n + r.errors, 0);
  const calls = [...healthy, ...faulted].reduce((n, r) => n + r.calls, 0);
  const start = run.idle.rssBytes;
  const oneMin = rssAt(run, 60_000);
  const peak = run.rss.reduce<Sample | undefined>((p, s) => (!p || s.rssBytes > p.rssBytes ? s : p), undefined);
  const end = run.settled?.rssBytes ?? run.endOfLoad?.rssBytes;
  const warm = oneMin?.rssBytes ?? start;
  const flat = end !== undefined && end - warm <= Math.max(10 * MIB, warm * 0.1);
  const idleRow = (label: string, c: Census | undefined, afterMs: number | undefined): string => {
    const left = c ? beyondIdle(c, run.idle) : [];
    const measured = !c ? 'not measured' : left.length ? `no: ${left.join(', ')}` : `yes, after ${sec(afterMs)}`;
    return `| ${label} | ${measured} | ${verdict(!!c && !left.length)} |`;
  };
  const recovered = faulted.every((r) => !r.recovery || !/never|not healed/.test(r.recovery));

  const out: string[] = [
    '# Toolgate soak',
    '',
    `Generated by \`${run.command}\` at ${run.startedAt}. Rewritten by every run.`,
    '',
    `- ${run.machine}`,
    `- ${run.versions}`,
    `- load: ${run.load}; session TTL ${run.ttlSeconds} s; everything on 127.0.0.1`,
    `- readiness before the load: ${run.idleStatus}`,
    "- healthy servers are never faulted (their errors should be 0); a faulted server's failed call counts as the fault's when it was in flight between the fault's start and the server's first success after the heal, and as *outside* otherwise; RSS, descriptors and children are read from /proc and ps, client sessions from readiness, upstream sessions from each upstream's own count (server-everything's session log lines, the fixtures' /soak/stats)",
    '',
    '## Goals',
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    `| gateway stays up | ${run.gatewayExit ?? 'up throughout'} | ${verdict(!run.gatewayExit)} |`,
    `| errors on healthy servers: 0 | ${healthyErrors} of ${healthy.reduce((n, r) => n + r.calls, 0)} calls | ${verdict(healthyErrors === 0)} |`,
    `| RSS flat after warm-up (end ≤ 1 min + max(10 MiB, 10%)) | ${mib(start)} at start, ${mib(oneMin?.rssBytes)} at 1 min, ${mib(end)} at the end, peak ${mib(peak?.rssBytes)} at ${sec(peak?.t)} | ${verdict(flat)} |`,
    idleRow('sessions and children back to idle after the load (within TTL + sweep)', run.settled, run.settledAfterMs),
    ...(run.afterSlowReader ? [idleRow('… and once the stalled slow reader hung up', run.afterSlowReader, run.afterSlowReaderMs)] : []),
    `| every faulted server recovers once healed | ${faulted.map((r) => `${r.target}: ${r.recovery ?? 'no fault'}`).join('; ')} | ${verdict(recovered)} |`,
    `| a stalled GET stream is let go | ${run.slowReader.outcome}${run.slowReader.releasedAt !== undefined ? ` at ${sec(run.slowReader.releasedAt)}` : ''} | ${verdict(run.slowReader.releasedAt !== undefined)} |`,
    '',
    '## Calls',
    '',
    `${calls} calls in all.`,
    '',
    '| target | kind | calls | errors | during its fault | outside any fault | recovery after heal | ok latency p50 / p99 (ms) | most frequent errors |',
    '|---|---|---:|---:|---:|---:|---|---:|---|',
    ...healthy.map(
      (r) => `| ${r.target} | healthy | ${r.calls} | ${r.errors} | – | ${r.errors} | – | ${r.latency} | ${topMessages(r.messages)} |`,
    ),
    ...faulted.map(
      (r) =>
        `| ${r.target} | faulted | ${r.calls} | ${r.errors} | ${r.inFault} | ${r.outside} | ${r.recovery ?? '–'} | ${r.latency} | ${topMessages(r.messages)} |`,
    ),
    '',
    '## Resources',
    '',
    ...censusRows(run),
    '',
    `RSS over the run: ${thin(run.rss, 12)
      .map((s) => `${sec(s.t)} ${(s.rssBytes / MIB).toFixed(0)}`)
      .join(', ')} (MiB).`,
    '',
    '## Faults',
    '',
    '| server | fault | from | healed | readiness showed meanwhile |',
    '|---|---|---:|---:|---|',
    ...run.windows.map((w) => `| ${w.server} | ${w.fault} | ${sec(w.from)} | ${sec(w.to)} | ${readinessDuring(run, w)} |`),
    `| chatty | slow reader on the GET stream | ${sec(run.slowReader.openedAt)} | ${run.slowReader.releasedAt !== undefined ? sec(run.slowReader.releasedAt) : 'never let go'} | ${run.slowReader.error ?? run.slowReader.outcome} |`,
    '',
    '## Timeline',
    '',
    '| t | event |',
    '|---:|---|',
    ...run.timeline.map((e) => `| ${sec(e.t)} | ${e.text.replace(/\|/g, '\\|')} |`),
    '',
    '## Gateway log',
    '',
    `${run.gatewayLogs.warn} warn, ${run.gatewayLogs.error} error, ${run.gatewayLogs.fatal} fatal lines.${run.gatewayLogs.top.size ? ' Most frequent:' : ''}`,
    '',
    ...[...run.gatewayLogs.top.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([m, c]) => `- ${c}× ${m}`),
    '',
  ];
  return out.join('\n').split(run.secret).join('<master key>');
}

/** At most n samples, evenly spread, always with the last. */
function thin<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  const step = (xs.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, i) => xs[Math.round(i * step)]!);
}
