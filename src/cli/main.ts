#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../observe/log.js';
import { startGateway, TOOLGATE_VERSION } from '../gateway.js';
import { ADMIN_COMMANDS } from './admin-commands.js';
import { StoreError } from '../store/errors.js';

const USAGE = `toolgate ${TOOLGATE_VERSION} — one MCP endpoint in front of every MCP server

Usage:
  toolgate start --config FILE [--host 127.0.0.1] [--port 4000]
  toolgate check-config FILE
  toolgate keys|teams|orgs|users ...   manage a running gateway (--help for each)
  toolgate --version

Environment:
  TOOLGATE_MASTER_KEY   the gateway key (else general_settings.master_key)
  TOOLGATE_LOG_LEVEL    pino level (default info)
  DATABASE_URL          PostgreSQL for the control plane (else the embedded store in toolgate_settings.data_dir)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    console.log(TOOLGATE_VERSION);
    return 0;
  }
  if (command === 'check-config') return checkConfig(rest);
  if (command === 'start') return start(rest);
  const admin = command === undefined ? undefined : ADMIN_COMMANDS.get(command);
  if (admin) return admin(rest);
  process.stderr.write(
    command === undefined || command === '--help' || command === 'help' ? USAGE : `Unknown command "${command}"\n\n${USAGE}`,
  );
  return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
}

async function checkConfig(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' } } });
  const file = values.config ?? positionals[0];
  if (!file) {
    process.stderr.write('toolgate check-config: name the config file\n');
    return 2;
  }
  try {
    const { describeConfig } = await import('../config/describe.js');
    console.log(describeConfig(loadConfig(file)));
    return 0;
  } catch (err) {
    return reportConfigError(err);
  }
}

function reportConfigError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`toolgate: invalid configuration\n${err.message}\n`);
    return 1;
  }
  throw err;
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string', short: 'p' } },
  });
  if (!values.config) {
    process.stderr.write('toolgate start: --config FILE is required\n');
    return 2;
  }
  let config;
  try {
    config = loadConfig(values.config);
  } catch (err) {
    return reportConfigError(err);
  }
  const log = createLogger();
  for (const w of config.warnings) log.warn(w);
  if (!config.masterKey) {
    process.stderr.write(`toolgate: no master key: set general_settings.master_key in ${config.file} or TOOLGATE_MASTER_KEY\n`);
    return 1;
  }
  const port = values.port === undefined ? 4000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`toolgate start: --port must be 0..65535 (got ${values.port})\n`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  let gateway;
  try {
    gateway = await startGateway(config, { host, port, log });
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`toolgate: cannot open the store: ${err.message}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is already in use (pick another with --port)'
        : code === 'EACCES'
          ? 'permission denied'
          : 'no such address on this machine';
    process.stderr.write(`toolgate: cannot listen on ${host}:${port}: ${why}\n`);
    return 1;
  }
  log.info({ url: gateway.url, servers: config.servers.map((s) => s.name) }, 'toolgate listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`toolgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
