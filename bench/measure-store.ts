/**
 * The store's cost in memory and start time, each figure from a fresh process (RSS is per process):
 *   npx tsx bench/measure-store.ts [--rows 3000] [--runs 3] [--postgres URL]
 * Cases: a new data directory with no initdb template (the very first start on a machine), a new data
 * directory from the template, and a later open of an existing store. RSS is sampled after the store's
 * modules are loaded (before), after openStore() resolved (open), and after ROWS inserts (rows).
 * Goals (issue 12): the store adds at most 64 MiB RSS; open within 1 s once the store exists.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MIB = 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);

interface Sample {
  openMs: number;
  beforeMiB: number;
  openMiB: number;
  rowsMiB: number;
  /** Largest RSS the child process reached (getrusage), which includes transient peaks. */
  peakMiB: number;
  /**
   * RSS added after the rows, less what V8's own JS heap grew by meanwhile: the inserts' garbage makes
   * V8 grow its young generation (about 23 MiB here), which any busy gateway does with or without a
   * store, so this is the store's own cost (PostgreSQL's wasm memory and code).
   */
  storeMiB: number;
}

const MIGRATIONS = [
  { version: 1, name: 'bench', sql: 'CREATE TABLE IF NOT EXISTS bench_rows (id serial PRIMARY KEY, k text NOT NULL, v jsonb)' },
];

/** Runs in the child: open, write, report one JSON line. */
async function child(optionsJson: string, rows: number): Promise<void> {
  const { openStore } = await import('../src/store/open.js');
  // Loading PGlite's JS is part of "before": it is loaded by the gateway's imports anyway.
  await import('@electric-sql/pglite');
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapTotal;
  const t0 = performance.now();
  const store = await openStore({ ...(JSON.parse(optionsJson) as object), migrations: MIGRATIONS });
  const openMs = performance.now() - t0;
  const open = process.memoryUsage().rss;
  for (let i = 0; i < rows; i++) {
    await store.query('INSERT INTO bench_rows (k, v) VALUES ($1, $2)', [`key-${i}`, { team: i % 50, tools: ['a', 'b'] }]);
  }
  await store.query('SELECT count(*) FROM bench_rows');
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  const heapAfter = process.memoryUsage().heapTotal;
  await store.close();
  const sample: Sample = {
    openMs: Math.round(openMs),
    beforeMiB: Math.round(before / MIB),
    openMiB: Math.round((open - before) / MIB),
    rowsMiB: Math.round((after - before) / MIB),
    peakMiB: Math.round((process.resourceUsage().maxRSS * 1024 - before) / MIB),
    storeMiB: Math.round((after - before - (heapAfter - heapBefore)) / MIB),
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

function measure(options: object, rows: number, env: NodeJS.ProcessEnv = process.env): Sample {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', SELF, '--child', JSON.stringify(options), '--rows', String(rows)],
    {
      env,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Sample;
}

function row(label: string, s: Sample): string {
  return `${label.padEnd(34)} open ${String(s.openMs).padStart(5)} ms   RSS added: open ${String(s.openMiB).padStart(4)} MiB, after rows ${String(s.rowsMiB).padStart(4)} MiB (store's own ${String(s.storeMiB).padStart(3)} MiB), peak ${String(s.peakMiB).padStart(4)} MiB   (baseline ${s.beforeMiB} MiB)`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      rows: { type: 'string', default: '3000' },
      runs: { type: 'string', default: '3' },
      postgres: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  if (values.child !== undefined) return child(values.child, rows);
  const runs = Number(values.runs);
  const scratch = mkdtempSync(join(tmpdir(), 'toolgate-measure-store-'));
  try {
    const emptyCache = join(scratch, 'cache');
    console.log(`embedded store (PGlite), ${rows} rows, ${runs} runs each`);
    for (let i = 0; i < runs; i++) {
      const dir = join(scratch, `first-${i}`);
      // An empty cache: no initdb template yet, as on a machine's very first start.
      console.log(
        row('new data dir, no template (initdb)', measure({ dataDir: dir }, rows, { ...process.env, XDG_CACHE_HOME: emptyCache })),
      );
      rmSync(emptyCache, { recursive: true, force: true });
    }
    const dir = join(scratch, 'kept');
    for (let i = 0; i < runs; i++) {
      const d = join(scratch, `templated-${i}`);
      console.log(row('new data dir, from template', measure({ dataDir: d }, rows)));
    }
    measure({ dataDir: dir }, 0);
    for (let i = 0; i < runs; i++) console.log(row('later open', measure({ dataDir: dir }, rows)));
    if (values.postgres) {
      console.log(`PostgreSQL ${values.postgres.replace(/:[^:@/]*@/, ':***@')}`);
      for (let i = 0; i < runs; i++) {
        const schema = `tg_measure_${process.pid}_${i}`;
        console.log(row('postgres', measure({ databaseUrl: values.postgres, schema }, rows)));
        const pg = (await import('pg')).default;
        const c = new pg.Client({ connectionString: values.postgres });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
