/** RESULTS.md and the verdicts against the targets of issue 6. */
import type { PathRow, Results, Target } from './results.js';

const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(3) : v.toFixed(1));
const signed = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : (v >= 0 ? '+' : '') + ms(v));
const rate = (v: number | undefined): string => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}x`;
const mib = (b: number | undefined): string => (b === undefined ? '–' : `${(b / 2 ** 20).toFixed(1)} MiB`);

export function row(rows: PathRow[], id: string, c: number): PathRow | undefined {
  return rows.find((r) => r.id === id && r.concurrency === c && r.status === 'ok');
}

/** Added latency of `path` over `floor` at one percentile. */
function added(path: PathRow | undefined, floor: PathRow | undefined, k: 'p50' | 'p90' | 'p99' | 'max'): number | undefined {
  return path?.latency && floor?.latency ? path.latency[k] - floor.latency[k] : undefined;
}

/**
 * Issue 10's targets against the naive Node proxy: what Toolgate costs beyond what Node's HTTP stack
 * costs any gateway written in Node.
 */
function nodeFloorTargets(r: Results, throughputC: number): Target[] {
  const direct1 = row(r.http, 'direct', 1);
  const floor1 = added(row(r.http, 'node-proxy', 1), direct1, 'p50');
  const floorThr = row(r.http, 'node-proxy', throughputC)?.callsPerSec;
  const t: Target[] = [];
  for (const [id, label] of [
    ['toolgate-server', '/mcp/echo'],
    ['toolgate-aggregate', '/mcp aggregate'],
  ] as const) {
    const mine = added(row(r.http, id, 1), direct1, 'p50');
    const over = mine !== undefined && floor1 !== undefined ? mine - floor1 : undefined;
    t.push({
      measure: `${label}: added p50 over the Node floor's, c=1`,
      goal: '≤ +0.1 ms',
      value: over === undefined ? '–' : `${signed(over)} ms (floor ${signed(floor1)} ms)`,
      verdict: verdict(over, (v) => v <= 0.1),
    });
    const thr = row(r.http, id, throughputC)?.callsPerSec;
    t.push({
      measure: `${label}: throughput vs the Node floor, c=${throughputC}`,
      goal: '≥ 0.8x',
      value: ratio(thr, floorThr),
      verdict: verdict(thr !== undefined && floorThr ? thr / floorThr : undefined, (v) => v >= 0.8),
    });
  }
  return t;
}

function verdict(value: number | undefined, ok: (v: number) => boolean): Target['verdict'] {
  return value === undefined || Number.isNaN(value) ? 'n/a' : ok(value) ? 'MET' : 'MISSED';
}

export function targets(r: Results, throughputC: number): Target[] {
  const t: Target[] = [];
  // Issue 14: what one regex guardrail (pre + post) adds to the same /mcp/echo call.
  const guard = added(row(r.http, 'toolgate-guardrail', 1), row(r.http, 'toolgate-server', 1), 'p50');
  t.push({
    measure: '/mcp/echo with one regex guardrail: added p50 over /mcp/echo, c=1',
    goal: '≤ 0.1 ms',
    value: guard === undefined ? '–' : `${signed(guard)} ms`,
    verdict: verdict(guard, (v) => v <= 0.1),
  });
  const direct1 = row(r.http, 'direct', 1);
  const nginx1 = row(r.http, 'nginx', 1);
  for (const id of ['toolgate-server', 'toolgate-aggregate']) {
    const tg1 = row(r.http, id, 1);
    const label = id === 'toolgate-server' ? '/mcp/echo' : '/mcp aggregate';
    const a50 = added(tg1, direct1, 'p50');
    const a99 = added(tg1, direct1, 'p99');
    t.push({ measure: `${label}: added p50, c=1`, goal: '≤ 0.3 ms', value: `${signed(a50)} ms`, verdict: verdict(a50, (v) => v <= 0.3) });
    t.push({ measure: `${label}: added p99, c=1`, goal: '≤ 2 ms', value: `${signed(a99)} ms`, verdict: verdict(a99, (v) => v <= 2) });
    for (const k of ['p50', 'p99'] as const) {
      const mine = added(tg1, direct1, k);
      const theirs = added(nginx1, direct1, k);
      // nginx's own added latency can round to ~0 on loopback; a floor of 0.01 ms keeps the ratio meaningful.
      const rel = mine !== undefined && theirs !== undefined ? mine / Math.max(theirs, 0.01) : undefined;
      t.push({
        measure: `${label}: added ${k} vs nginx's, c=1`,
        goal: '≤ 1.5x',
        value: rel === undefined ? '–' : `${rel.toFixed(2)}x (nginx ${signed(theirs)} ms)`,
        verdict: verdict(rel, (v) => v <= 1.5),
      });
    }
    const thr = ratio(row(r.http, id, throughputC)?.callsPerSec, row(r.http, 'nginx', throughputC)?.callsPerSec);
    const thrV =
      row(r.http, id, throughputC)?.callsPerSec && row(r.http, 'nginx', throughputC)?.callsPerSec
        ? row(r.http, id, throughputC)!.callsPerSec! / row(r.http, 'nginx', throughputC)!.callsPerSec!
        : undefined;
    t.push({
      measure: `${label}: throughput vs nginx, c=${throughputC}`,
      goal: '≥ 0.7x',
      value: thr,
      verdict: verdict(thrV, (v) => v >= 0.7),
    });
  }
  t.push(...nodeFloorTargets(r, throughputC));
  const tgStdio = row(r.stdio, 'toolgate-stdio', throughputC)?.callsPerSec;
  const peers = ['mcp-proxy', 'supergateway']
    .map((id) => row(r.stdio, id, throughputC)?.callsPerSec)
    .filter((v): v is number => v !== undefined);
  const best = peers.length ? Math.max(...peers) : undefined;
  t.push({
    measure: `stdio throughput vs best peer, c=${throughputC}`,
    goal: '≥ 2x',
    value: ratio(tgStdio, best),
    verdict: verdict(tgStdio !== undefined && best ? tgStdio / best : undefined, (v) => v >= 2),
  });
  const warm99 = r.listing.status === 'ok' ? r.listing.warm?.p99 : undefined;
  t.push({
    measure: `warm aggregated tools/list p99 (${r.listing.servers}x${r.listing.toolsPerServer})`,
    goal: '≤ 5 ms',
    value: `${ms(warm99)} ms`,
    verdict: verdict(warm99, (v) => v <= 5),
  });
  const proof = r.listing.proof;
  const relisted = proof ? proof.upstreamListsAfter - proof.upstreamListsBefore : undefined;
  t.push({
    measure: `upstream tools/list caused by ${proof?.calls ?? '–'} tools/call`,
    goal: '0',
    value: relisted === undefined ? '–' : String(relisted),
    verdict: verdict(relisted, (v) => v === 0),
  });
  const bps = r.memory.status === 'ok' ? r.memory.bytesPerSession : undefined;
  t.push({
    measure: 'memory per idle session',
    goal: '≤ 16 KiB',
    value: bps === undefined ? '–' : `${(bps / 1024).toFixed(1)} KiB`,
    verdict: verdict(bps, (v) => v <= 16 * 1024),
  });
  const ready = r.startup.find((s) => s.id === 'toolgate' && s.status === 'ok')?.medianMs;
  t.push({ measure: 'start to ready (median)', goal: '≤ 1 s', value: `${ms(ready)} ms`, verdict: verdict(ready, (v) => v <= 1000) });
  return t;
}

export function pathTable(rows: PathRow[], floor: PathRow | undefined, nginx: PathRow | undefined): string[] {
  const out = [
    '| path | p50 | p90 | p99 | max | added p50 | added p90 | added p99 | calls/s | vs direct | vs nginx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.status !== 'ok' || !r.latency) {
      out.push(`| ${r.label} | ${r.status}: ${oneLine(r.note)} | | | | | | | | | |`);
      continue;
    }
    const l = r.latency;
    const isFloor = r.id === 'direct';
    out.push(
      `| ${r.label} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${isFloor ? '–' : signed(added(r, floor, 'p50'))} | ${isFloor ? '–' : signed(added(r, floor, 'p90'))} | ${isFloor ? '–' : signed(added(r, floor, 'p99'))} | ${rate(r.callsPerSec)} | ${ratio(r.callsPerSec, floor?.callsPerSec)} | ${ratio(r.callsPerSec, nginx?.callsPerSec)} |`,
    );
  }
  return out;
}

function oneLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0]!.replace(/\|/g, '/').slice(0, 160);
}

export function renderMarkdown(r: Results, findings: string): string {
  const m = r.machine;
  const L: string[] = [];
  L.push('# Toolgate benchmark results', '');
  L.push(
    `Generated by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.date} in ${r.durationSec.toFixed(0)} s. Rewritten by every run; raw numbers in \`bench/results.json\`, chart in \`bench/latency.svg\`.`,
    '',
  );
  L.push('## Machine', '');
  L.push(`- ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB memory, ${m.os}`);
  L.push(
    `- load average before / after: ${m.loadBefore.map((v) => v.toFixed(2)).join(' ')} / ${m.loadAfter.map((v) => v.toFixed(2)).join(' ')} (other work on this shared machine adds noise, mostly to the tails)`,
  );
  L.push(
    `- versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  L.push(
    "- everything on 127.0.0.1; load generator in its own process (undici Pool, keep-alive, one MCP session, small `echo` payload); each path's time split into rounds run in rotating order",
    '',
  );

  L.push('## Targets (issues 6 and 10)', '', '| measure | target | measured | verdict |', '|---|---|---|---|');
  for (const t of r.targets) L.push(`| ${t.measure} | ${t.goal} | ${t.value} | **${t.verdict}** |`);
  L.push('');

  for (const c of [...new Set(r.http.map((x) => x.concurrency))]) {
    L.push(`## tools/call over HTTP, concurrency ${c}`, '');
    L.push('Latency in ms. *added* = path minus direct at the same percentile.', '');
    const rows = r.http.filter((x) => x.concurrency === c);
    L.push(...pathTable(rows, row(rows, 'direct', c), row(rows, 'nginx', c)), '');
  }
  if (r.echoHeadroom) {
    L.push(
      `Echo server headroom: direct ${rate(r.echoHeadroom.directCallsPerSec)} calls/s vs best proxied ${rate(r.echoHeadroom.bestProxiedCallsPerSec)} calls/s (${r.echoHeadroom.ratio.toFixed(2)}x) — ${r.echoHeadroom.ratio >= 1.5 ? 'the upstream is not the bottleneck' : 'too close: the upstream may be limiting the proxied paths'}.`,
      '',
    );
  }

  L.push('## stdio upstream exposed over Streamable HTTP', '');
  L.push('The same stdio echo server behind each bridge. Latency in ms.', '');
  L.push('| bridge | c | p50 | p90 | p99 | max | calls/s | vs best peer |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of r.stdio) {
    if (x.status !== 'ok' || !x.latency) {
      L.push(`| ${x.label} | ${x.concurrency} | ${x.status}: ${oneLine(x.note)} | | | | | |`);
      continue;
    }
    const peers = r.stdio.filter((p) => p.kind === 'peer' && p.concurrency === x.concurrency && p.callsPerSec).map((p) => p.callsPerSec!);
    const best = peers.length ? Math.max(...peers) : undefined;
    L.push(
      `| ${x.label} | ${x.concurrency} | ${ms(x.latency.p50)} | ${ms(x.latency.p90)} | ${ms(x.latency.p99)} | ${ms(x.latency.max)} | ${rate(x.callsPerSec)} | ${ratio(x.callsPerSec, best)} |`,
    );
  }
  L.push('');

  const ls = r.listing;
  L.push(`## Aggregated tools/list: ${ls.servers} servers x ${ls.toolsPerServer} tools through Toolgate /mcp`, '');
  if (ls.status !== 'ok') L.push(`${ls.status}: ${oneLine(ls.note)}`, '');
  if (ls.warm) {
    L.push('| measure | value |', '|---|---:|');
    L.push(`| tools listed (pages) | ${ls.toolsListed ?? '–'} (${ls.pages ?? '–'}) |`);
    L.push(`| cold: first list after start | ${ms(ls.coldMs)} ms |`);
    L.push(
      `| warm p50 / p90 / p99 / max (${ls.warm.count} lists) | ${ms(ls.warm.p50)} / ${ms(ls.warm.p90)} / ${ms(ls.warm.p99)} / ${ms(ls.warm.max)} ms |`,
    );
    if (ls.proof) {
      L.push(
        `| upstream tools/list count before / after ${ls.proof.calls} tools/call | ${ls.proof.upstreamListsBefore} / ${ls.proof.upstreamListsAfter} |`,
      );
      L.push(`| upstream tools/call received during those calls | ${ls.proof.upstreamCallsDelta} |`);
    }
    L.push('');
  }

  const mem = r.memory;
  L.push(`## Memory: Toolgate RSS with idle client sessions (initialize only, on ${mem.route}; session TTL ${mem.ttlSeconds} s)`, '');
  if (mem.status !== 'ok') L.push(`${mem.status}: ${oneLine(mem.note)}`, '');
  else {
    L.push('| idle sessions | RSS | opened in |', '|---:|---:|---:|', `| 0 (baseline) | ${mib(mem.baselineRss)} | |`);
    for (const p of mem.points)
      L.push(`| ${p.sessions.toLocaleString('en-US')} | ${mib(p.rssBytes)} | ${(p.openMs / 1000).toFixed(1)} s |`);
    if (mem.afterTtl)
      L.push(
        `| after TTL (${(mem.afterTtl.waitedMs / 1000).toFixed(1)} s; first session ${mem.afterTtl.oldSessionExpired ? 'expired: 404' : 'still answered'}) | ${mib(mem.afterTtl.rssBytes)} | |`,
      );
    L.push(
      '',
      `Bytes per idle session: ${mem.bytesPerSession === undefined ? '–' : `${Math.round(mem.bytesPerSession).toLocaleString('en-US')} B (${(mem.bytesPerSession / 1024).toFixed(1)} KiB)`}. RSS after the TTL includes whatever the V8 heap has not returned yet; no GC can be forced from outside.`,
      '',
    );
  }

  L.push('## Start to ready', '', 'Spawn to the first 200 from the readiness/health endpoint.', '');
  L.push('| process | median | runs (ms) |', '|---|---:|---|');
  for (const s of r.startup)
    L.push(
      `| ${s.label} | ${s.status === 'ok' ? `${ms(s.medianMs)} ms` : `${s.status}: ${oneLine(s.note)}`} | ${s.runsMs.map((v) => v.toFixed(0)).join(', ')} |`,
    );
  L.push('');

  if (findings.trim()) L.push('## Findings and next steps', '', findings.trim(), '');
  return L.join('\n');
}
