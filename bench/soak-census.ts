/** What the gateway holds at one moment, seen from outside: memory, descriptors, sessions, stdio children, upstream sessions. */
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';

import { rssBytes } from './processes.js';
import { STDIO_SERVERS, stdioMarker, upstreamSessions, type HeldSessions, type ServerName, type Upstreams } from './soak-rig.js';

export interface Readiness {
  status: string;
  sessions?: number;
  servers: Record<string, { state: string; error?: string }>;
}

export interface Census {
  rssBytes: number;
  fds: number;
  /** Downstream (client) sessions, as readiness reports them. */
  downstreamSessions?: number;
  /** stdio children of the gateway per server, found by their command line. */
  children: Partial<Record<ServerName, number>>;
  /** Sessions each HTTP upstream holds, by its own count. */
  upstreamSessions: Partial<Record<ServerName, HeldSessions>>;
}

export async function readiness(base: string): Promise<Readiness | undefined> {
  try {
    const res = await fetch(`${base}/health/readiness`, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as Readiness;
  } catch {
    return undefined;
  }
}

/** pids of the gateway's stdio children for one server: direct children whose command line carries its marker. */
export function stdioChildren(gatewayPid: number, server: ServerName): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(gatewayPid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  const marker = stdioMarker(server);
  return out
    .split('\n')
    .filter((l) => l.split(/\s+/).includes(marker))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

export async function takeCensus(gatewayPid: number, base: string, upstreams: Upstreams): Promise<Census> {
  const [rss, fds, ready, sessions] = await Promise.all([
    rssBytes(gatewayPid),
    openFds(gatewayPid),
    readiness(base),
    upstreamSessions(upstreams),
  ]);
  const children: Census['children'] = {};
  for (const s of STDIO_SERVERS) children[s] = stdioChildren(gatewayPid, s).length;
  return { rssBytes: rss, fds, downstreamSessions: ready?.sessions, children, upstreamSessions: sessions };
}

/** What is still held beyond the idle counts, e.g. "client sessions 1 (idle 0)"; empty when back to idle. */
export function beyondIdle(now: Census, idle: Census): string[] {
  const out: string[] = [];
  const check = (what: string, n: number | undefined, base: number | undefined): void => {
    if ((n ?? 0) > (base ?? 0)) out.push(`${what} ${n} (idle ${base ?? 0})`);
  };
  check('client sessions', now.downstreamSessions, idle.downstreamSessions);
  for (const [k, n] of Object.entries(now.children)) check(`${k} children`, n, idle.children[k as ServerName]);
  for (const [k, h] of Object.entries(now.upstreamSessions))
    check(`${k} upstream sessions`, h?.live, idle.upstreamSessions[k as ServerName]?.live);
  return out;
}

/** True when nothing the clients caused is still held: no more sessions and children than at idle. */
export function backToIdle(now: Census, idle: Census): boolean {
  return beyondIdle(now, idle).length === 0;
}
