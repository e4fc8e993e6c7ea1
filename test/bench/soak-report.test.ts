import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { beyondIdle, type Census } from '../../bench/soak-census.js';
import { Recorder } from '../../bench/soak-load.js';
import { renderSoak, type SoakRun } from '../../bench/soak-report.js';

const SECRET = 'sk-soak-canary-0123456789';

function census(over: Partial<Census> = {}): Census {
  return {
    rssBytes: 100 * 2 ** 20,
    fds: 30,
    downstreamSessions: 0,
    children: { stdio: 1, stdio_hung: 1 },
    upstreamSessions: { http: { live: 1, opened: 1 } },
    ...over,
  };
}

/** A run whose outcomes are placed by hand, in ms since the load began. */
function run(rec: Recorder, over: Partial<SoakRun> = {}): SoakRun {
  return {
    command: 'npm run soak -- --minutes 2',
    startedAt: '2026-12-01T00:00:00.000Z',
    machine: 'test machine',
    versions: 'test versions',
    minutes: 2,
    load: 'test load',
    ttlSeconds: 20,
    rec,
    idle: census(),
    idleStatus: 'healthy',
    endOfLoad: census(),
    settled: census(),
    settledAfterMs: 2_000,
    rss: [
      { t: 0, rssBytes: 100 * 2 ** 20 },
      { t: 60_000, rssBytes: 110 * 2 ** 20 },
    ],
    readiness: [],
    windows: [{ fault: 'killed and restarted on its port', server: 'http_restarted', from: 10_000, to: 20_000 }],
    slowReader: { outcome: 'still attached', openedAt: 30_000 },
    timeline: [{ t: 10_000, text: `kill with key ${SECRET}` }],
    gatewayLogs: { warn: 0, error: 0, fatal: 0, top: new Map() },
    secret: SECRET,
    ...over,
  };
}

function row(report: string, first: string): string {
  const line = report.split('\n').find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `no row for ${first}`);
  return line;
}

describe('soak report', () => {
  it("counts a faulted server's failed call as the fault's when it was in flight during it, and measures recovery from the heal", () => {
    const rec = new Recorder();
    const r = rec.of('http_restarted');
    r.okAt.push(5_000, 23_500, 40_000);
    r.okMs.push(1, 1, 1);
    // Began before the fault, failed during it (a timeout); failed during it; failed long after it recovered.
    r.errAt.push(9_000, 15_000, 50_000);
    r.errEnd.push(12_000, 15_100, 50_100);
    const report = renderSoak(run(rec));
    const cells = row(report, 'http_restarted')
      .split('|')
      .map((c) => c.trim());
    // target, kind, calls, errors, during its fault, outside any fault, recovery
    assert.deepEqual(cells.slice(1, 8), ['http_restarted', 'faulted', '6', '3', '2', '1', '3.5 s']);
  });

  it('a healthy error misses its goal; a fault never healed shows as such', () => {
    const rec = new Recorder();
    rec.of('stdio').errAt.push(1_000);
    rec.of('stdio').errEnd.push(1_100);
    const report = renderSoak(run(rec, { windows: [{ fault: 'stopped', server: 'stdio_hung', from: 1_000 }] }));
    assert.match(row(report, 'errors on healthy servers: 0'), /1 of 1 calls \| \*\*MISSED\*\*/);
    assert.match(row(report, 'stdio_hung'), /not healed/);
  });

  it('names what is still held beyond the idle counts', () => {
    const now = census({
      downstreamSessions: 1,
      children: { stdio: 3, stdio_hung: 1 },
      upstreamSessions: { http: { live: 2, opened: 9 } },
    });
    assert.deepEqual(beyondIdle(now, census()), [
      'client sessions 1 (idle 0)',
      'stdio children 3 (idle 1)',
      'http upstream sessions 2 (idle 1)',
    ]);
    // Fewer than at idle (a restarted upstream without its warm session yet) is not a leak.
    assert.deepEqual(beyondIdle(census({ upstreamSessions: { http: { live: 0, opened: 4 } } }), census()), []);
    const report = renderSoak(run(new Recorder(), { settled: now }));
    assert.match(report, /back to idle after the load .*\| no: client sessions 1 \(idle 0\), stdio children 3/);
  });

  it('never writes the master key, even when something it reports echoed it', () => {
    const report = renderSoak(run(new Recorder()));
    assert.ok(!report.includes(SECRET));
    assert.match(report, /kill with key <master key>/);
  });
});
