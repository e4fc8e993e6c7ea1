/**
 * The load generator, run as its own process so that its CPU is not the proxy's:
 *   node --import tsx bench/loadgen.ts '<LoadSpec JSON>'
 * prints one LoadResult JSON line on stdout. Every loop is bounded by both a call count and a deadline.
 */
import { Pool } from 'undici';

import { summarize, type LatencySummary } from './stats.js';
import { baseHeaders, openSession, parseReply } from './wire.js';

export interface LoadSpec {
  url: string;
  headers?: Record<string, string>;
  /** call: tools/call `tool`; list: tools/list; sessions: open `sessions` sessions and leave them idle. */
  mode: 'call' | 'list' | 'sessions';
  tool?: string;
  concurrency: number;
  durationMs: number;
  maxCalls: number;
  /** Calls made before recording starts (connections and JIT warm up). */
  warmupCalls: number;
  sessions?: number;
}

export interface LoadResult {
  mode: LoadSpec['mode'];
  concurrency: number;
  calls: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  callsPerSec: number;
  /** Latency of the very first request after the session opened (the cold one). */
  firstMs?: number;
  latency?: LatencySummary;
  /** Every recorded latency in ms (µs precision), so that runs can be merged exactly. */
  samples?: number[];
  sessionsOpened?: number;
  /** One of the opened session ids, so the caller can check later whether it expired. */
  sampleSessionId?: string;
}

const PAYLOAD_TEXT = 'hello from toolgate-bench';
const WARMUP_CAP_MS = 1500;

async function run(spec: LoadSpec): Promise<LoadResult> {
  const u = new URL(spec.url);
  const origin = u.origin;
  const path = u.pathname + u.search;
  const extra = spec.headers ?? {};
  const pool = new Pool(origin, { connections: spec.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    if (spec.mode === 'sessions') return await openMany(pool, origin, path, extra, spec);
    const sessionId = await openSession(pool, origin, path, extra);
    const headers = baseHeaders(extra, sessionId);
    const expect = spec.mode === 'call' ? PAYLOAD_TEXT : '"tools"';
    const body = (id: number): string =>
      spec.mode === 'call'
        ? `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${JSON.stringify(spec.tool ?? 'echo')},"arguments":{"text":"${PAYLOAD_TEXT}"}}}`
        : `{"jsonrpc":"2.0","id":${id},"method":"tools/list","params":{}}`;

    const samples = new Float64Array(spec.maxCalls);
    let recorded = 0;
    let issued = 0;
    let errors = 0;
    let firstError: string | undefined;
    let started = 0n;

    const one = async (id: number): Promise<number | undefined> => {
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({ origin, path, method: 'POST', headers, body: body(id) });
        const text = await res.body.text();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        const reply = parseReply(String(res.headers['content-type'] ?? ''), text);
        if (!reply || reply.error || !text.includes(expect)) {
          throw new Error(`unexpected reply: ${(reply?.error?.message ?? text).slice(0, 200)}`);
        }
        return ms;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        return undefined;
      }
    };

    const firstMs = await one(++issued);
    // Stop early on a path that does not work at all rather than spin through the whole budget.
    if (firstMs === undefined) {
      return { mode: spec.mode, concurrency: spec.concurrency, calls: 0, errors, firstError, elapsedMs: 0, callsPerSec: 0 };
    }
    // Warm-up has its own time cap, so a slow path still gets its full measuring time afterwards.
    const warmupEnd = performance.now() + WARMUP_CAP_MS;
    for (let i = 0; i < spec.warmupCalls && performance.now() < warmupEnd; i++) await one(++issued);
    const deadline = performance.now() + spec.durationMs;

    const totalLimit = issued + spec.maxCalls;
    started = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (issued < totalLimit && performance.now() < deadline && errors < 100) {
        const ms = await one(++issued);
        if (ms !== undefined && recorded < samples.length) samples[recorded++] = ms;
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return {
      mode: spec.mode,
      concurrency: spec.concurrency,
      calls: recorded,
      errors,
      firstError,
      elapsedMs,
      callsPerSec: recorded / (elapsedMs / 1000),
      firstMs,
      latency: summarize(samples.subarray(0, recorded)),
      samples: Array.from(samples.subarray(0, recorded), (v) => Math.round(v * 1000) / 1000),
    };
  } finally {
    await pool.close();
  }
}

async function openMany(pool: Pool, origin: string, path: string, extra: Record<string, string>, spec: LoadSpec): Promise<LoadResult> {
  const target = Math.min(spec.sessions ?? 1, spec.maxCalls);
  const deadline = performance.now() + spec.durationMs;
  const t0 = process.hrtime.bigint();
  let next = 0;
  let opened = 0;
  let errors = 0;
  let firstError: string | undefined;
  let sampleSessionId: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < target && performance.now() < deadline && errors < 100) {
      next++;
      try {
        const id = await openSession(pool, origin, path, extra);
        sampleSessionId ??= id;
        opened++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    mode: 'sessions',
    concurrency: spec.concurrency,
    calls: opened,
    errors,
    firstError,
    elapsedMs,
    callsPerSec: opened / (elapsedMs / 1000),
    sessionsOpened: opened,
    sampleSessionId,
  };
}

const raw = process.argv[2];
if (!raw) {
  process.stderr.write("usage: loadgen.ts '<LoadSpec JSON>'\n");
  process.exit(2);
}
run(JSON.parse(raw) as LoadSpec).then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
  },
  (err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
