/**
 * Everything the soak puts behind Toolgate, each in a process of its own on 127.0.0.1: server-everything
 * twice over Streamable HTTP (one healthy, one that gets killed and restarted on its port), once over SSE,
 * twice over stdio (children of the gateway; one gets SIGSTOPped), and the soak's chatty and garbage servers.
 * Each HTTP upstream also reports how many sessions it holds, so the end of the run can be compared with idle.
 */
import type { Readable } from 'node:stream';
import { join } from 'node:path';

import { ROOT } from './launch.js';
import { freePort, startProcess, stopProcess, waitForHttp, waitForLines, type Tracked } from './processes.js';
import type { FixtureStats } from './soak-upstreams.js';

const EVERYTHING = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const LOOPBACK = join(ROOT, 'bench', 'loopback.ts');
const FIXTURES = join(ROOT, 'bench', 'soak-upstreams.ts');

/** The upstream names, as they appear in /mcp/{name} and in the aggregate's tool prefixes. */
// Not `sse`: /mcp/sse is the gateway's own legacy SSE endpoint, so a server of that name is unreachable there.
export const HEALTHY = ['stdio', 'http', 'sse_server', 'chatty'] as const;
export const FAULTED = ['stdio_hung', 'http_restarted', 'garbage'] as const;
export type ServerName = (typeof HEALTHY)[number] | (typeof FAULTED)[number];
export const STDIO_SERVERS: ServerName[] = ['stdio', 'stdio_hung'];

/**
 * Calls into a hung or garbage upstream should fail well before the run ends; healthy ones get room for a
 * loaded machine. The timeout also bounds a stdio child's start (initialize), which takes several seconds
 * when the shared machine is busy, so even the faulted servers get 10 s.
 */
const HEALTHY_TIMEOUT_S = 30;
const FAULTED_TIMEOUT_S = 10;

/** Calls `onLine` for every complete line of a child's output stream. */
export function onLines(stream: Readable | null | undefined, onLine: (line: string) => void): void {
  let buf = '';
  stream?.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

/**
 * server-everything over HTTP, its live sessions read from its own log lines (it announces each
 * session it opens and each it removes; the SSE mode does so per connection).
 */
export class EverythingHttp {
  proc!: Tracked;
  readonly live = new Set<string>();
  /** Sessions opened over the whole run, restarts included. */
  opened = 0;

  private constructor(
    readonly mode: 'streamableHttp' | 'sse',
    readonly port: number,
  ) {}

  static async start(mode: 'streamableHttp' | 'sse'): Promise<EverythingHttp> {
    const e = new EverythingHttp(mode, await freePort());
    await e.restart();
    return e;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${this.mode === 'sse' ? '/sse' : '/mcp'}`;
  }

  /** (Re)starts on the same port: a new process holds no sessions. */
  async restart(): Promise<void> {
    this.live.clear();
    const proc = startProcess(
      `server-everything ${this.mode}`,
      process.execPath,
      ['--import', 'tsx', '--import', LOOPBACK, EVERYTHING, this.mode],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(this.port) },
      },
    );
    const track = (line: string): void => {
      const opened = line.match(/Session initialized with ID: (\S+)|Client Connected:\s+(\S+)/);
      if (opened) {
        this.live.add(opened[1] ?? opened[2]!);
        this.opened++;
      }
      const closed = line.match(/Transport closed for session ([^\s,]+)|Client Disconnected:\s+(\S+)/);
      if (closed) this.live.delete(closed[1] ?? closed[2]!);
    };
    onLines(proc.child.stdout, track);
    onLines(proc.child.stderr, track);
    this.proc = proc;
    // Both modes print their listening line on stderr, which waitForLines does not read; a path that no
    // route serves gets express's 404 from either mode as soon as it listens (GET /sse would never end).
    await waitForHttp(proc, `http://127.0.0.1:${this.port}/soak-no-such-route`, 20_000, 50, 404);
  }

  async kill(): Promise<void> {
    await stopProcess(this.proc, 0);
  }
}

export class Fixtures {
  private constructor(
    readonly proc: Tracked,
    readonly chattyUrl: string,
    readonly garbageUrl: string,
  ) {}

  static async start(chattyBytes: number, chattyEveryMs: number): Promise<Fixtures> {
    const proc = startProcess(
      'soak-upstreams',
      process.execPath,
      ['--import', 'tsx', FIXTURES, '--chatty-bytes', String(chattyBytes), '--chatty-every-ms', String(chattyEveryMs)],
      { cwd: ROOT },
    );
    const lines = await waitForLines(proc, /^listening (chatty|garbage) (\S+)$/, 2, 20_000);
    const url = (name: string): string => lines.find((m) => m[1] === name)![2]!;
    return new Fixtures(proc, url('chatty'), url('garbage'));
  }

  async stats(which: 'chatty' | 'garbage'): Promise<FixtureStats> {
    const res = await fetch(this.control(which, 'stats'), { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as FixtureStats;
  }

  async garbage(on: boolean): Promise<void> {
    const res = await fetch(this.control('garbage', `garbage/${on ? 'on' : 'off'}`), { method: 'POST', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
  }

  private control(which: 'chatty' | 'garbage', what: string): string {
    return (which === 'chatty' ? this.chattyUrl : this.garbageUrl).replace(/\/mcp$/, `/soak/${what}`);
  }
}

export interface Upstreams {
  http: EverythingHttp;
  httpRestarted: EverythingHttp;
  sse: EverythingHttp;
  fixtures: Fixtures;
}

export async function startUpstreams(chattyBytes: number, chattyEveryMs: number): Promise<Upstreams> {
  const [http, httpRestarted, sse, fixtures] = await Promise.all([
    EverythingHttp.start('streamableHttp'),
    EverythingHttp.start('streamableHttp'),
    EverythingHttp.start('sse'),
    Fixtures.start(chattyBytes, chattyEveryMs),
  ]);
  return { http, httpRestarted, sse, fixtures };
}

export async function stopUpstreams(u: Partial<Upstreams>): Promise<void> {
  await Promise.all([u.http?.kill(), u.httpRestarted?.kill(), u.sse?.kill(), u.fixtures && stopProcess(u.fixtures.proc)]);
}

/** The marker in a stdio child's command line that tells the soak which server it belongs to (server-everything ignores it). */
export const stdioMarker = (name: ServerName): string => `--soak-server=${name}`;

/** One `mcp_servers` entry; what launch.ts's ServerEntry holds, plus the transport and timeout the soak sets. */
type SoakServer =
  { url: string; transport?: 'http' | 'sse'; timeout: number } | { transport: 'stdio'; command: string; args: string[]; timeout: number };

/** The `mcp_servers` section: the same servers under the names the report uses. */
export function serverEntries(u: Upstreams): Record<ServerName, SoakServer> {
  const stdio = (name: ServerName, timeout: number) => ({
    transport: 'stdio' as const,
    command: process.execPath,
    args: [EVERYTHING, 'stdio', stdioMarker(name)],
    timeout,
  });
  return {
    stdio: stdio('stdio', HEALTHY_TIMEOUT_S),
    http: { url: u.http.url, timeout: HEALTHY_TIMEOUT_S },
    sse_server: { url: u.sse.url, transport: 'sse', timeout: HEALTHY_TIMEOUT_S },
    chatty: { url: u.fixtures.chattyUrl, timeout: HEALTHY_TIMEOUT_S },
    stdio_hung: stdio('stdio_hung', FAULTED_TIMEOUT_S),
    http_restarted: { url: u.httpRestarted.url, timeout: FAULTED_TIMEOUT_S },
    garbage: { url: u.fixtures.garbageUrl, timeout: FAULTED_TIMEOUT_S },
  };
}

export interface HeldSessions {
  /** Held now. */
  live: number;
  /** Opened since the upstream started (for http_restarted: since its first start). */
  opened: number;
}

/** Sessions each HTTP upstream holds, as the upstream itself counts them. */
export async function upstreamSessions(u: Upstreams): Promise<Partial<Record<ServerName, HeldSessions>>> {
  const [chatty, garbage] = await Promise.all([u.fixtures.stats('chatty'), u.fixtures.stats('garbage')]);
  const of = (e: EverythingHttp): HeldSessions => ({ live: e.live.size, opened: e.opened });
  return {
    http: of(u.http),
    http_restarted: of(u.httpRestarted),
    sse_server: of(u.sse),
    chatty: { live: chatty.sessions, opened: chatty.initializes },
    garbage: { live: garbage.sessions, opened: garbage.initializes },
  };
}
