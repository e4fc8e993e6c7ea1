import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** LiteLLM's DATABASE_URL: PostgreSQL when set, else the embedded engine. */
  databaseUrl?: string;
  /** Where the embedded engine keeps its files (toolgate_settings.data_dir); relative to the config file's directory. */
  dataDir?: string;
  /** The config file, for the default data directory (`.toolgate/` beside it). */
  configFile?: string;
  /** PostgreSQL schema, overriding DATABASE_URL's `?schema=` (tests use one per run). */
  schema?: string;
  /** Defaults to every migration this build knows. */
  migrations?: readonly Migration[];
  log?: Logger;
}

/** The embedded store's directory: data_dir relative to the config file, else `.toolgate/` beside it. */
export function dataDirFor(dataDir: string | undefined, configFile: string | undefined): string {
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  return resolve(base, dataDir ?? '.toolgate');
}

/** Opens the store the configuration asks for and brings its schema up to date. Throws StoreError with the fix. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const migrations = opts.migrations ?? MIGRATIONS;
  // Each engine's module (and its driver: pg, PGlite) loads only when it is the one asked for.
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres({ url: opts.databaseUrl, schema: opts.schema, migrations, log: opts.log });
  }
  const { openEmbedded } = await import('./embedded.js');
  return openEmbedded({ dataDir: dataDirFor(opts.dataDir, opts.configFile), migrations, log: opts.log });
}
