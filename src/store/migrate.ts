import type { Logger } from 'pino';
import { TOOLGATE_VERSION } from '../version.js';
import { StoreError } from './errors.js';
import type { Migration } from './migrations/index.js';
import type { Queryable } from './types.js';

/** A Queryable that can also run several statements at once (a migration's SQL). */
export interface SqlRunner extends Queryable {
  exec(sql: string): Promise<void>;
}

/**
 * One connection, held for the whole run (PostgreSQL: under an advisory lock, so replicas starting
 * together apply each migration once).
 */
export interface MigrationSession extends SqlRunner {
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export const MIGRATIONS_TABLE = 'toolgate_schema_migrations';

export interface MigrationOutcome {
  /** The schema version after the run (0: no migration). */
  version: number;
  /** Versions applied by this run. */
  applied: number[];
}

/**
 * Brings the schema up to the newest migration this build knows, each in its own transaction and
 * recorded in toolgate_schema_migrations, so a crash between two migrations resumes where it stopped.
 * `where` describes the database for messages (never with a password).
 */
export async function runMigrations(
  session: MigrationSession,
  migrations: readonly Migration[],
  where: string,
  log?: Logger,
): Promise<MigrationOutcome> {
  checkOrder(migrations);
  await session.exec(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const rows = await session.query<{ version: number; name: string }>(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`);
  const known = migrations.at(-1)?.version ?? 0;
  const newest = rows.at(-1);
  if (newest && newest.version > known) {
    throw new StoreError(
      `${where} has schema version ${newest.version} ("${newest.name}"), newer than this Toolgate ${TOOLGATE_VERSION} knows ` +
        `(version ${known}): a newer Toolgate migrated it. Run that newer Toolgate (upgrade this one), or restore a backup ` +
        `taken before the upgrade; Toolgate never downgrades a schema.`,
    );
  }
  const applied = new Map(rows.map((r) => [r.version, r.name]));
  for (const m of migrations) {
    const name = applied.get(m.version);
    if (name !== undefined && name !== m.name) {
      throw new StoreError(
        `${where} recorded migration ${m.version} as "${name}", but this build's migration ${m.version} is "${m.name}": ` +
          `the database was migrated by a different build. Use the build that migrated it, or restore a matching backup.`,
      );
    }
  }
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await session.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    });
    log?.info({ version: m.version, name: m.name }, 'store migration applied');
    done.push(m.version);
  }
  return { version: Math.max(known, newest?.version ?? 0), applied: done };
}

/** A list out of order or with a repeated version is a programming error; fail loudly at start. */
function checkOrder(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`store migrations must have ascending whole versions: ${m.version} ("${m.name}") follows ${previous}`);
    }
    previous = m.version;
  }
}
