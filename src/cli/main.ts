#!/usr/bin/env node
import { TOOLGATE_VERSION } from '../version.js';
import { parseCommand, UsageError, type Command } from './command.js';

/**
 * Every command, one entry each: its name, one line for the overview, and its module (loaded only
 * when run, so `toolgate bridge` does not pay for the gateway and `start` not for the SDK client).
 */
const COMMANDS: { name: string; summary: string; load(): Promise<Command> }[] = [
  { name: 'start', summary: 'run the gateway', load: () => import('./start.js').then((m) => m.command) },
  {
    name: 'check-config',
    summary: 'validate a config file and print what would run',
    load: () => import('./check-config.js').then((m) => m.command),
  },
];

const USAGE = `toolgate ${TOOLGATE_VERSION} — one MCP endpoint in front of every MCP server

Usage: toolgate COMMAND [options]    (toolgate COMMAND --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}
  --version     print the version

Environment:
  TOOLGATE_MASTER_KEY   the gateway key (else general_settings.master_key)
  TOOLGATE_API_KEY      the key that connect, bridge and doctor send to the gateway
  TOOLGATE_LOG_LEVEL    pino level (default info)
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(TOOLGATE_VERSION);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`toolgate: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const cmd = await entry.load();
  const usage = `Usage: ${cmd.usage}\n`;
  try {
    const parsed = parseCommand(cmd, rest);
    if (parsed === 'help') {
      process.stdout.write(usage);
      return 0;
    }
    return await cmd.run(parsed);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`toolgate ${cmd.name}: ${err.message}\n\n${usage}`);
    return 2;
  }
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
