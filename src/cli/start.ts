import { loadConfig } from '../config/load.js';
import { createLogger } from '../observe/log.js';
import { pgliteModule } from '../store/pglite-module.js';
import { StoreError } from '../store/errors.js';
import { str, UsageError, type Command } from './command.js';
import { reportConfigError } from './config-error.js';

export const command: Command = {
  name: 'start',
  usage: `toolgate start --config FILE [--host 127.0.0.1] [--port 4000]

  -c, --config FILE   the LiteLLM-style config.yaml to serve
      --host HOST     address to listen on (default 127.0.0.1)
  -p, --port PORT     port to listen on (default 4000; 0 picks a free one)`,
  options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string', short: 'p' } },
  run: start,
};

async function start(args: Parameters<Command['run']>[0]): Promise<number> {
  const file = str(args, 'config');
  if (!file) throw new UsageError('--config FILE is required');
  const portText = str(args, 'port');
  const port = portText === undefined ? 4000 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535 (got ${portText})`);
  let config;
  try {
    config = loadConfig(file);
  } catch (err) {
    return reportConfigError(err);
  }
  const log = createLogger();
  for (const w of config.warnings) log.warn(w);
  if (!config.masterKey) {
    process.stderr.write(`toolgate: no master key: set general_settings.master_key in ${config.file} or TOOLGATE_MASTER_KEY\n`);
    return 1;
  }
  // The embedded store's wasm is read (and then compiled) while the gateway's modules load.
  if (!config.settings.databaseUrl) pgliteModule().catch(() => {}); // a failure shows again when the store opens
  // The gateway's modules load only now: a bad config or a missing key is reported without them.
  const { startGateway } = await import('../gateway.js');
  const host = str(args, 'host') ?? '127.0.0.1';
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
