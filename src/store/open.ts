import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { openEmbedded } from './embedded.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { openPostgres } from './postgres.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** LiteLLM's DATABASE_URL: PostgreSQL when set, else the embedded engine. */
  databaseUrl?: string;
  /** Where the embedded engine keeps its files (toolgate_settings.data_dir). */
  dataDir?: string;
  /** The config file, for the default data directory (`.toolgate/` beside it). */
  configFile?: string;
  /** PostgreSQL schema, overriding DATABASE_URL's `?schema=` (tests use one per run). */
  schema?: string;
  /** Defaults to every migration this build knows. */
  migrations?: readonly Migration[];
  log?: Logger;
}

/** The embedded store's directory when toolgate_settings.data_dir is not set: `.toolgate/` beside the config. */
export function defaultDataDir(configFile: string | undefined): string {
  return join(configFile ? dirname(resolve(configFile)) : process.cwd(), '.toolgate');
}

/** Opens the store the configuration asks for and brings its schema up to date. Throws StoreError with the fix. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const migrations = opts.migrations ?? MIGRATIONS;
  if (opts.databaseUrl) return openPostgres({ url: opts.databaseUrl, schema: opts.schema, migrations, log: opts.log });
  const dataDir = resolve(opts.dataDir ?? defaultDataDir(opts.configFile));
  return openEmbedded({ dataDir, migrations, log: opts.log });
}
