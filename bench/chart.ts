/** bench/latency.svg: percentile curves per path (x: percentile on a tail-stretching scale, y: latency on a log scale). */
import type { PathRow } from './results.js';

const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
const W = 520;
const H = 340;
const M = { left: 56, right: 12, top: 28, bottom: 44 };

/** 0 → 0, 90 → 1, 99 → 2, 99.9 → 3, 99.99 → 4; the maximum is drawn just past 99.99. */
function xOf(p: number): number {
  return p >= 100 ? 4.3 : Math.min(4.3, -Math.log10(1 - p / 100));
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(title: string, rows: PathRow[], ox: number): string {
  const drawn = rows.filter((r) => r.latency && r.latency.curve.length);
  const values = drawn.flatMap((r) => r.latency!.curve.map(([, v]) => v)).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(values.length ? Math.min(...values) : 0.1)));
  const hi = Math.pow(10, Math.ceil(Math.log10(values.length ? Math.max(...values) : 10)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (p: number): number => ox + M.left + (xOf(p) / 4.3) * pw;
  const sy = (v: number): number => M.top + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const out: string[] = [`<text x="${ox + W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  out.push(`<rect x="${ox + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const [p, label] of [
    [0, 'p0'],
    [50, 'p50'],
    [90, 'p90'],
    [99, 'p99'],
    [99.9, 'p99.9'],
    [99.99, 'p99.99'],
    [100, 'max'],
  ] as const) {
    out.push(`<line x1="${sx(p)}" x2="${sx(p)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(p)}" y="${M.top + ph + 14}" text-anchor="middle" font-size="10">${label}</text>`);
  }
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(`<line x1="${ox + M.left}" x2="${ox + M.left + pw}" y1="${sy(d)}" y2="${sy(d)}" stroke="#eee"/>`);
    out.push(
      `<text x="${ox + M.left - 4}" y="${sy(d) + 3}" text-anchor="end" font-size="10">${d >= 1 ? d.toFixed(0) : d.toPrecision(1)} ms</text>`,
    );
  }
  out.push(`<text x="${ox + M.left + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="10">percentile of calls</text>`);
  drawn.forEach((r, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = r.latency!.curve.map(([p, v]) => `${sx(p).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    out.push(`<rect x="${ox + M.left + 8}" y="${M.top + 8 + i * 14}" width="10" height="3" fill="${color}"/>`);
    out.push(`<text x="${ox + M.left + 22}" y="${M.top + 12 + i * 14}" font-size="10">${esc(r.label)}</text>`);
  });
  if (!drawn.length) out.push(`<text x="${ox + W / 2}" y="${H / 2}" text-anchor="middle" fill="#999">no data</text>`);
  return out.join('\n');
}

export function latencyChart(panels: Array<{ title: string; rows: PathRow[] }>): string {
  const body = panels.map((p, i) => panel(p.title, p.rows, i * W)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${body}
</svg>
`;
}
