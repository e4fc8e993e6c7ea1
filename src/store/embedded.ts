import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { StoreBase } from './base.js';
import { StoreError } from './errors.js';
import { lockDataDir } from './lock.js';
import { pgliteModule } from './pglite-module.js';
import { isCluster, prepareCluster } from './template.js';
import { runMigrations, type MigrationSession, type SqlRunner } from './migrate.js';
import type { Migration } from './migrations/index.js';
import type { Queryable, Store } from './types.js';

/**
 * PostgreSQL settings for a control-plane database of thousands of rows, not millions: PGlite's
 * defaults size PostgreSQL's buffers for a general database and cost hundreds of MB of RSS. 1 MB of
 * shared buffers (128 pages) holds this database's hot pages; measured with bench/measure-store.ts it
 * saves about 6 MiB over 8 MB, and the request path never reads the store anyway.
 */
const TUNING = ['shared_buffers=1MB', 'work_mem=1MB', 'maintenance_work_mem=4MB', 'wal_buffers=256kB', 'temp_buffers=1MB'];
/** The wasm module declares 2048 pages (128 MiB) as its minimum; only pages PostgreSQL touches cost RSS. */
const INITIAL_MEMORY = 128 * 1024 * 1024;

async function create(dir: string): Promise<PGlite> {
  return PGlite.create(dir, {
    pgliteWasmModule: await pgliteModule(),
    initialMemory: INITIAL_MEMORY,
    startParams: [...PGlite.defaultStartParams, ...TUNING.flatMap((s) => ['-c', s])],
  });
}

export interface EmbeddedOptions {
  dataDir: string;
  migrations: readonly Migration[];
  log?: Logger;
}

/** Opens (creating on first use) the embedded PostgreSQL under dataDir, locked to this process. */
export async function openEmbedded(opts: EmbeddedOptions): Promise<Store> {
  try {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError(
      `cannot create the data directory ${opts.dataDir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): ` +
        `make it writable, or set toolgate_settings.data_dir to a writable directory`,
    );
  }
  const lock = lockDataDir(opts.dataDir);
  const pgdata = join(opts.dataDir, 'pgdata');
  let db: PGlite | undefined;
  try {
    if (!isCluster(pgdata)) await prepareCluster(pgdata, async (dir) => (await create(dir)).close(), opts.log);
    db = await create(pgdata);
  } catch (err) {
    lock.release();
    throw new StoreError(
      `cannot open the embedded store in ${opts.dataDir}: ${(err as Error).message}. ` +
        `If the directory holds something else, point toolgate_settings.data_dir elsewhere.`,
    );
  }
  try {
    await runMigrations(session(db), opts.migrations, `the embedded store in ${opts.dataDir}`, opts.log);
  } catch (err) {
    await db.close().catch(() => undefined);
    lock.release();
    throw err;
  }
  return new EmbeddedStore(db, () => lock.release(), opts.log);
}

/** PGlite reads a COPY's input from the blob it is given, as the file `/dev/blob`. */
async function copyFrom(q: PGlite | Transaction, sql: string, data: string): Promise<void> {
  await q.query(sql, [], { blob: new Blob([data]) });
}

function runner(q: PGlite | Transaction): SqlRunner {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await q.query<R>(sql, params)).rows,
    exec: async (sql: string) => {
      await q.exec(sql);
    },
    copyFrom: (sql: string, data: string) => copyFrom(q, sql, data),
  };
}

function session(db: PGlite): MigrationSession {
  return { ...runner(db), transaction: (fn) => db.transaction((tx) => fn(runner(tx))) };
}

class EmbeddedStore extends StoreBase {
  readonly engine = 'embedded' as const;

  constructor(
    private readonly db: PGlite,
    private readonly release: () => void,
    log?: Logger,
  ) {
    super(log);
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  copyFrom(sql: string, data: string): Promise<void> {
    return copyFrom(this.db, sql, data);
  }

  /**
   * PGlite is one connection: statements outside fn wait until it finishes, so fn must use tx, never
   * the store itself (that would wait for its own transaction).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(runner(tx)));
  }

  /** One process owns the embedded store, so every listener has heard the change already. */
  protected async announce(): Promise<void> {}

  protected async shutdown(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.release();
    }
  }
}
