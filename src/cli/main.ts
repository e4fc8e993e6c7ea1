#!/usr/bin/env node
import { TOOLGATE_VERSION } from '../version.js';
import { parseCommand, UsageError, type Command } from './command.js';

/**
 * Every command, one entry each: name, one line for the overview, and its module (each exports
 * `command`; loaded only when run, so `toolgate bridge` does not pay for the gateway).
 */
const COMMANDS: Record<string, [summary: string, load: () => Promise<{ command: Command }>]> = {
  start: ['run the gateway', () => import('./start.js')],
  'check-config': ['validate a config file and print what would run', () => import('./check-config.js')],
  bridge: ['a stdio MCP server relaying to a Toolgate (for stdio-only clients)', () => import('./bridge.js')],
  doctor: ['check every server of a config and name the fix', () => import('./doctor.js')],
  connect: ['print or write the Toolgate entry for an MCP client', () => import('./connect.js')],
};

/** The management commands (keys, teams, orgs, users): each parses its own verbs, --help included. */
const ADMIN: Record<string, string> = {
  keys: 'create, list, inspect, block or revoke virtual keys on a running gateway',
  teams: 'create and list teams, add members',
  orgs: 'create and list organizations',
  users: 'create and list users',
  servers: 'add, list, show, update, remove or test MCP servers stored on a running gateway',
};

const USAGE = `toolgate ${TOOLGATE_VERSION} — one MCP endpoint in front of every MCP server

Usage: toolgate COMMAND [options]    (toolgate COMMAND --help for its options)

Commands:
${Object.entries(COMMANDS)
  .map(([name, [summary]]) => `  ${name.padEnd(14)}${summary}`)
  .join('\n')}
${Object.entries(ADMIN)
  .map(([name, summary]) => `  ${name.padEnd(14)}${summary}`)
  .join('\n')}
  --version     print the version

Environment:
  TOOLGATE_MASTER_KEY   the gateway key (else general_settings.master_key)
  TOOLGATE_API_KEY      the key that connect, bridge and doctor send to the gateway
  DATABASE_URL          PostgreSQL for the control plane (else the embedded store in toolgate_settings.data_dir)
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
  if (Object.hasOwn(ADMIN, name)) {
    const { ADMIN_COMMANDS } = await import('./admin-commands.js');
    return ADMIN_COMMANDS.get(name)!(rest);
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`toolgate: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const { command: cmd } = await entry[1]();
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
