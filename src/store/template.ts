import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

/**
 * initdb is most of PGlite's cost on a new data directory (seconds; the brief measured 3.6-4.2 s, and
 * far more on a loaded machine), yet its output is the same every time for one PGlite build. So the
 * first initdb on a machine is kept as a template in the user's cache and later new data directories
 * start as a copy of it: a file copy, then an ordinary open.
 */

/** A directory holds an initialised cluster once PostgreSQL's PG_VERSION file is there. */
export function isCluster(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  const wasm = require.resolve('@electric-sql/pglite/pglite.wasm');
  return (JSON.parse(readFileSync(join(dirname(wasm), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Per user, per PGlite build: another build's initdb output may not open. */
export function templateDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'toolgate', `pglite-${pgliteVersion()}`);
}

/**
 * A template is trusted only if this user owns it and nobody else can write it: another local user
 * must not be able to plant a database (and its functions) in our store.
 */
function trustworthy(dir: string): boolean {
  try {
    const st = statSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0 && isCluster(dir);
  } catch {
    return false;
  }
}

/**
 * Makes `pgdata` an initialised cluster: a copy of the template when there is one, else `init(dir)`
 * (which must leave a cleanly closed cluster in dir), saved as the template for next time. Every step
 * writes beside the target and renames, so a crash never leaves a half-made cluster under its name.
 */
export async function prepareCluster(pgdata: string, init: (dir: string) => Promise<void>, log?: Logger): Promise<void> {
  const staging = `${pgdata}.new`;
  rmSync(staging, { recursive: true, force: true });
  // A pgdata without PG_VERSION is a leftover of a crash before this scheme finished: ours, incomplete.
  rmSync(pgdata, { recursive: true, force: true });
  const template = safe(() => templateDir());
  if (template && trustworthy(template)) {
    try {
      cpSync(template, staging, { recursive: true });
      renameSync(staging, pgdata);
      log?.debug({ template }, 'embedded store created from the initdb template');
      return;
    } catch (err) {
      // Another process replacing the template at this moment: fall back to our own initdb.
      log?.debug({ err: (err as Error).message }, 'initdb template not usable');
      rmSync(staging, { recursive: true, force: true });
    }
  }
  await init(staging);
  if (template) saveTemplate(staging, template, log);
  renameSync(staging, pgdata);
}

function saveTemplate(cluster: string, template: string, log?: Logger): void {
  const tmp = `${template}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(template), { recursive: true, mode: 0o700 });
    cpSync(cluster, tmp, { recursive: true });
    chmodSync(tmp, 0o700);
    rmSync(template, { recursive: true, force: true });
    renameSync(tmp, template);
  } catch (err) {
    // Only a cache: without it the next new store runs initdb again.
    log?.debug({ err: (err as Error).message }, 'initdb template not saved');
    rmSync(tmp, { recursive: true, force: true });
  }
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
