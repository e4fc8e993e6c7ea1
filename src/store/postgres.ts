import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { StoreBase } from './base.js';
import { redactDatabaseUrl, StoreError } from './errors.js';
import { CHANGES_CHANNEL, ChangeListener, type ChangeNotice } from './listen.js';
import { runMigrations, type SqlRunner } from './migrate.js';
import type { Migration } from './migrations/index.js';
import type { Queryable, Store, StoreChange } from './types.js';

const INT8_OID = 20;
/**
 * The embedded engine returns int8 (count(*), bigserial) as a number; pg returns a string. One SQL
 * must give one shape on both, so pg parses int8 as a number too (control-plane ids and counts stay
 * far below 2^53).
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
};

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** DATABASE_URL; `?schema=NAME` (Prisma's spelling, which LiteLLM users have) selects a schema. */
  url: string;
  /** Overrides the URL's schema (tests use one per run). */
  schema?: string;
  migrations: readonly Migration[];
  log?: Logger;
  /** Pool size; a control plane needs few connections. */
  maxConnections?: number;
}

interface Target {
  config: pg.ClientConfig;
  schema: string;
  where: string;
}

function target(opts: PostgresOptions): Target {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new StoreError('DATABASE_URL is not a URL: write postgresql://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new StoreError(`DATABASE_URL must start with postgresql:// or postgres:// (got ${url.protocol}//)`);
  }
  const schema = opts.schema ?? url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(`schema ${JSON.stringify(schema)} in DATABASE_URL is not a plain name: use letters, digits and _ (at most 63)`);
  }
  return {
    config: {
      connectionString: url.toString(),
      // Unqualified table names in the shared SQL resolve in the chosen schema.
      options: `-c search_path=${schema}`,
      types,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      application_name: `toolgate ${schema}`.slice(0, 63),
    },
    schema,
    where: `PostgreSQL ${redactDatabaseUrl(opts.url)} (schema ${schema})`,
  };
}

function runner(client: pg.PoolClient | pg.Pool): SqlRunner {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
    exec: async (sql: string) => {
      await client.query(sql);
    },
  };
}

/** onBroken hears when even ROLLBACK failed: that connection must not go back to the pool. */
async function inTransaction<T>(client: pg.PoolClient, fn: (tx: SqlRunner) => Promise<T>, onBroken?: (err: Error) => void): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(runner(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => onBroken?.(rollbackErr));
    throw err;
  }
}

/** Connects, migrates under an advisory lock (replicas starting together apply each migration once) and LISTENs. */
export async function openPostgres(opts: PostgresOptions): Promise<Store> {
  const t = target(opts);
  const pool = new pg.Pool({ ...t.config, max: opts.maxConnections ?? 5 });
  // An idle connection dropped by the server emits here; without a handler it would crash the process.
  pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'store connection lost (it is replaced on next use)'));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreError(
      `cannot connect to ${t.where}: ${(err as Error).message}. Check that it is running and reachable, ` +
        `and the user, password and database in DATABASE_URL (unset DATABASE_URL to use the embedded store).`,
    );
  }
  let broken: Error | undefined;
  try {
    const lockKey = `toolgate_migrations:${t.schema}`;
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
      await runMigrations({ ...runner(client), transaction: (fn) => inTransaction(client, fn) }, opts.migrations, t.where, opts.log);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch((err: Error) => (broken = err));
    }
  } catch (err) {
    client.release(true);
    await pool.end().catch(() => undefined);
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot prepare the schema in ${t.where}: ${(err as Error).message}`);
  }
  client.release(broken ?? false);
  const store = new PostgresStore(pool, t, opts.log);
  try {
    await store.listen();
  } catch (err) {
    await store.close();
    throw new StoreError(`cannot LISTEN for changes on ${t.where}: ${(err as Error).message}`);
  }
  return store;
}

class PostgresStore extends StoreBase {
  readonly engine = 'postgres' as const;
  readonly #origin = randomUUID();
  readonly #listener: ChangeListener;

  constructor(
    private readonly pool: pg.Pool,
    private readonly target: Target,
    log?: Logger,
  ) {
    super(log);
    this.#listener = new ChangeListener(target.config, this.#origin, target.schema, (c) => this.changes.emit(c), log);
  }

  listen(): Promise<void> {
    return this.#listener.start();
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await inTransaction(client, fn, (err) => (broken = err));
    } finally {
      client.release(broken);
    }
  }

  protected async announce(change: StoreChange): Promise<void> {
    const notice: ChangeNotice = { o: this.#origin, s: this.target.schema, c: change };
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify(notice)]);
  }

  protected async shutdown(): Promise<void> {
    await this.#listener.close();
    await this.pool.end();
  }
}
