/**
 * Every process the harness starts goes through here, in its own process group, so that one kill reaches
 * grandchildren too (the stdio servers that mcp-proxy, supergateway and Toolgate spawn), on success, on
 * error and on Ctrl-C alike.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

export interface Tracked {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Last few KiB of stderr+stdout, for error messages. */
  tail(): string;
  exited: Promise<number | null>;
}

const live = new Set<Tracked>();

export function startProcess(name: string, command: string, args: string[], opts: SpawnOptions = {}): Tracked {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts, detached: true });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const t: Tracked = { name, child, pid: child.pid, tail: () => tail, exited };
  live.add(t);
  void exited.then(() => live.delete(t));
  return t;
}

function signalGroup(t: Tracked, sig: NodeJS.Signals): void {
  try {
    process.kill(-t.pid, sig);
  } catch {
    // The group is already gone.
  }
}

export async function stopProcess(t: Tracked, graceMs = 2000): Promise<void> {
  signalGroup(t, 'SIGTERM');
  const done = await Promise.race([t.exited.then(() => true), sleep(graceMs).then(() => false)]);
  // The leader may exit before its children do; the group kill covers both.
  signalGroup(t, 'SIGKILL');
  if (!done) await Promise.race([t.exited, sleep(1000)]);
  live.delete(t);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((t) => stopProcess(t)));
}

function killAllNow(): void {
  for (const t of live) signalGroup(t, 'SIGKILL');
}

/** Installs the last-resort cleanup: nothing started here outlives the harness. */
export function installCleanup(): void {
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first stdout match of `re`; rejects on exit or timeout with the process's output. */
export function waitForLine(t: Tracked, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return waitForLines(t, re, 1, timeoutMs).then((m) => m[0]!);
}

export function waitForLines(t: Tracked, re: RegExp, count: number, timeoutMs: number): Promise<RegExpMatchArray[]> {
  return new Promise((resolve, reject) => {
    const found: RegExpMatchArray[] = [];
    let buf = '';
    const timer = setTimeout(() => finish(new Error(`${t.name}: not ready after ${timeoutMs} ms\n${t.tail()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = buf.slice(0, nl).match(re);
        buf = buf.slice(nl + 1);
        if (m) found.push(m);
        if (found.length >= count) return finish();
      }
    };
    const onExit = (code: number | null): void => finish(new Error(`${t.name} exited (${code}) before ready\n${t.tail()}`));
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      t.child.stdout?.off('data', onData);
      t.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(found);
    };
    t.child.stdout?.on('data', onData);
    t.child.once('exit', onExit);
  });
}

/** Polls `url` until it answers `status`; rejects if the process exits first or time runs out. */
export async function waitForHttp(t: Tracked, url: string, timeoutMs: number, intervalMs = 10, status = 200): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void t.exited.then(() => (exited = true));
  while (performance.now() < deadline) {
    if (exited) throw new Error(`${t.name} exited before ready\n${t.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === status) return;
    } catch {
      // Not listening yet.
    }
    await sleep(intervalMs);
  }
  throw new Error(`${t.name}: ${url} did not answer ${status} within ${timeoutMs} ms\n${t.tail()}`);
}

/** A port that was free a moment ago (for programs that cannot be told to pick one and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size in bytes, from /proc (Linux only). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
