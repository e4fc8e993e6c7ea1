import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type OpenStoreOptions } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';

/** The PostgreSQL that .ci/run starts: database `test`, trust auth on 127.0.0.1. */
export const TEST_DATABASE_URL = process.env.TOOLGATE_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** A place for one test's data: a temp directory (embedded) or a fresh schema (PostgreSQL), removed by cleanup. */
export interface EngineRun {
  engine: 'embedded' | 'postgres';
  /** openStore options pointing at this run's place; extra options override. */
  options(extra?: Partial<OpenStoreOptions>): OpenStoreOptions;
  open(extra?: Partial<OpenStoreOptions>): Promise<Store>;
  /** The PostgreSQL schema or the embedded data directory. */
  where: string;
  cleanup(): Promise<void>;
}

export async function embeddedRun(): Promise<EngineRun> {
  const dir = await mkdtemp(join(tmpdir(), 'toolgate-store-'));
  const options = (extra: Partial<OpenStoreOptions> = {}) => ({ dataDir: dir, ...extra });
  return {
    engine: 'embedded',
    where: dir,
    options,
    open: (extra) => openStore(options(extra)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function postgresRun(): Promise<EngineRun> {
  const schema = `tg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const options = (extra: Partial<OpenStoreOptions> = {}) => ({ databaseUrl: TEST_DATABASE_URL, schema, ...extra });
  return {
    engine: 'postgres',
    where: schema,
    options,
    open: (extra) => openStore(options(extra)),
    cleanup: () => adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined),
  };
}

/** One statement on the test database outside any store (setup, inspection, cleanup). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export const ENGINES = [
  { name: 'embedded', run: embeddedRun },
  { name: 'postgres', run: postgresRun },
] as const;
