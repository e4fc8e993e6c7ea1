import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { loadConfig } from '../config/load.js';
import { sentCredential } from '../config/credential-summary.js';
import type { GatewayConfig, ServerConfig } from '../config/types.js';
import { Exchange } from '../edge/mrtr.js';
import { LATEST_LEGACY_VERSION } from '../mcp/versions.js';
import { createLogger } from '../observe/log.js';
import { credentialsFor } from '../upstream/credentials/index.js';
import { transportFactory } from '../upstream/factory.js';
import { Upstream } from '../upstream/upstream.js';
import { TOOLGATE_VERSION } from '../version.js';
import { str, UsageError, type Command } from './command.js';
import { reportConfigError } from './config-error.js';

export const command: Command = {
  name: 'doctor',
  usage: `toolgate doctor [--config FILE] [SERVER]

  The troubleshooting guide as a command: for each server (or just SERVER) it checks name
  resolution and TCP connect, TLS, the initialize status and protocol era, the auth outcome
  (auth_type and the header sent, masked), the tools/list count and time; for stdio servers
  the command, the child's start and the tail of its stderr. It ends with the fixes.

  -c, --config FILE   the config to check (default ./config.yaml)`,
  options: { config: { type: 'string', short: 'c' } },
  maxPositionals: 1,
  async run(args) {
    let config: GatewayConfig;
    try {
      config = loadConfig(str(args, 'config') ?? 'config.yaml');
    } catch (err) {
      const code = reportConfigError(err);
      process.stderr.write(FIXES);
      return code;
    }
    const only = args.positionals[0];
    const servers = only ? config.servers.filter((s) => s.name === only) : config.servers;
    if (only && servers.length === 0) {
      throw new UsageError(`no server "${only}" in ${config.file} (servers: ${config.servers.map((s) => s.name).join(', ') || 'none'})`);
    }
    const out = (line: string) => process.stdout.write(line + '\n');
    out(`Config: ${config.file}`);
    let failed = 0;
    for (const s of servers) if (!(await checkServer(s, out))) failed++;
    if (config.warnings.length) {
      out(`\nWarnings from the config (${config.warnings.length}):`);
      for (const w of config.warnings) out(`  ${w}`);
    }
    out(`\n${failed === 0 ? 'All servers answered.' : `${failed} of ${servers.length} server(s) failed.`}`);
    process.stdout.write(FIXES);
    return failed === 0 && config.warnings.length === 0 ? 0 : 1;
  },
};

const FIXES = `
Common mistakes and their fixes:
  - a URL ending in /sse without \`transport: sse\`: add \`transport: sse\` (else POSTs fail, often "Cannot POST /sse")
  - a Streamable HTTP URL (/mcp) with \`transport: sse\`: use \`transport: http\` or leave transport out
  - \`transport: streamable_http\` or \`streamable-http\`: write \`transport: http\`
  - os.environ/NAME with NAME unset: export NAME before starting Toolgate (check-config names it)
  - 401/403 from a server: check auth_type (api_key sends x-api-key, bearer_token sends Authorization: Bearer) and auth_value
  - a stdio "command not found": install it or give its absolute path; relative args are read from the config file's folder (or cwd:)
`;

async function checkServer(s: ServerConfig, out: (l: string) => void): Promise<boolean> {
  out(`\n${s.name} (${s.transport})`);
  const ok = (what: string) => out(`  ok    ${what}`);
  const bad = (what: string) => out(`  FAIL  ${what}`);
  if (s.transport === 'stdio') {
    const found = findCommand(s.command!, s.cwd ?? process.cwd());
    if (!found) {
      bad(`command "${s.command}" not found on PATH${s.cwd ? ` or in ${s.cwd}` : ''}`);
      return false;
    }
    ok(`command found: ${found}`);
  } else {
    const url = new URL(s.url!);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    let address: string;
    try {
      address = (await lookup(url.hostname.replace(/^\[|\]$/g, ''))).address;
      ok(`name ${url.hostname} resolves to ${address}`);
    } catch (err) {
      bad(`name ${url.hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return false;
    }
    const tcp = await probe((done) => tcpConnect({ host: address, port }, done));
    if (tcp) {
      bad(`TCP connect to ${address}:${port}: ${tcp}`);
      return false;
    }
    ok(`TCP connect to ${address}:${port}`);
    if (url.protocol === 'https:') {
      const tls = await probe((done) => tlsConnect({ host: address, port, servername: url.hostname }, done));
      if (tls) {
        bad(`TLS to ${url.hostname}: ${tls}`);
        return false;
      }
      ok(`TLS to ${url.hostname}: certificate valid`);
    }
  }
  const stderr: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) {
          try {
            const rec = JSON.parse(line) as { stream?: string; msg?: string };
            if (rec.stream === 'stderr' && rec.msg) stderr.push(rec.msg);
          } catch {
            // not a log record
          }
        }
        cb();
      },
    }),
  });
  const transports = transportFactory();
  const upstream = new Upstream(s, {
    log,
    credentials: credentialsFor(s, { log }),
    createTransport: transports.create,
    clientInfo: { name: 'toolgate-doctor', version: TOOLGATE_VERSION },
  });
  let healthy = true;
  try {
    const t0 = performance.now();
    const init = await upstream.describe();
    const info = init.serverInfo as { name?: string; version?: string } | undefined;
    ok(
      `initialize: ${info?.name ?? 'server'} ${info?.version ?? ''} in ${ms(t0)}, era ${upstream.era === 'modern' ? '2026-07-28 (stateless)' : `${String(init.protocolVersion ?? LATEST_LEGACY_VERSION)} (sessions)`}`,
    );
    if (s.transport !== 'stdio') ok(`auth: accepted (auth_type ${s.auth.type}, sent ${sentCredential(s.auth)})`);
    else ok('child started');
    const lease = upstream.lease(
      { protocolVersion: LATEST_LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'toolgate-doctor' } },
      new Exchange({}),
    );
    const t1 = performance.now();
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await lease.request('tools/list', cursor ? { cursor } : {});
      count += Array.isArray(page.tools) ? page.tools.length : 0;
      cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
    } while (cursor);
    ok(`tools/list: ${count} tool(s) in ${ms(t1)}`);
    await lease.release();
  } catch (err) {
    healthy = false;
    const msg = err instanceof Error ? err.message : String(err);
    bad(msg);
    if (s.transport !== 'stdio' && /\b(401|403)\b|unauthori[sz]ed|forbidden/i.test(msg)) {
      bad(`auth: refused (auth_type ${s.auth.type}, sent ${sentCredential(s.auth)})`);
    }
    if (s.transport === 'stdio' && stderr.length === 0) out('        (the child wrote nothing on stderr)');
  } finally {
    await upstream.close().catch(() => undefined);
    await transports.close().catch(() => undefined);
  }
  if (s.transport === 'stdio' && stderr.length) {
    out(`  stderr (last ${Math.min(stderr.length, 10)} lines):`);
    for (const line of stderr.slice(-10)) out(`        ${line}`);
  }
  return healthy;
}

function ms(t0: number): string {
  return `${Math.round(performance.now() - t0)} ms`;
}

/** Connects and closes; the error text, or undefined on success. */
function probe(open: (done: () => void) => import('node:net').Socket): Promise<string | undefined> {
  return new Promise((resolveProbe) => {
    const sock = open(() => {
      sock.destroy();
      resolveProbe(undefined);
    });
    sock.setTimeout(5000, () => {
      sock.destroy();
      resolveProbe('timed out after 5 s');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolveProbe(err.code ? `${err.code}: ${err.message}` : err.message));
  });
}

/** Where a stdio command resolves: a path (relative to the child's folder) or a PATH entry. */
function findCommand(cmd: string, cwd: string): string | undefined {
  if (cmd.includes('/') || cmd.includes('\\')) {
    const p = isAbsolute(cmd) ? cmd : resolve(cwd, cmd);
    return existsSync(p) ? p : undefined;
  }
  const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const ext of exts) {
      const p = join(dir, cmd + ext);
      if (dir && existsSync(p)) return p;
    }
  }
  return undefined;
}
