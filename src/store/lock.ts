import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.js';

const LOCK_FILE = 'toolgate.lock';

/** Paths locked by this process: a second open here must fail too, though the pid in the file is ours. */
const heldHere = new Set<string>();

export interface DirLock {
  release(): void;
}

/**
 * The embedded database belongs to one process: two PostgreSQL instances writing one data directory
 * corrupt it. The lock file holds the owner's pid; a lock whose process is gone (kill -9, a crash) is
 * stale and taken over, so a restart after a crash needs no manual cleanup.
 */
export function lockDataDir(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw inUse(dir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = ownerOf(path);
      // Our own pid in the file without our own lock: left by an earlier process that had this pid (a
      // container restarts as pid 1 every time), so it is stale as well.
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw inUse(dir, owner);
      unlinkSync(path);
    }
  }
  heldHere.add(path);
  return {
    release() {
      if (!heldHere.delete(path)) return;
      try {
        unlinkSync(path);
      } catch {
        // Already gone (someone removed the directory): nothing left to release.
      }
    },
  };
}

function inUse(dir: string, pid: number): StoreError {
  return new StoreError(
    `the data directory ${dir} is in use by another Toolgate (process ${pid}${pid === process.pid ? ', this one' : ''}). ` +
      `The embedded store belongs to one process: stop the other one, point toolgate_settings.data_dir at another ` +
      `directory, or set DATABASE_URL so several gateways share one PostgreSQL.`,
  );
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // Unreadable or half-written (the writer died between open and write): nobody provably owns it.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
