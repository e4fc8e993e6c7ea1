import { orgsCommand, teamsCommand, usersCommand } from './commands/directory.js';
import { keysCommand } from './commands/keys.js';
import { serversCommand } from './servers.js';

/** The management commands, by name: each talks to a running gateway's API (never to its data directory). */
export const ADMIN_COMMANDS: ReadonlyMap<string, (argv: string[]) => Promise<number>> = new Map([
  ['keys', keysCommand],
  ['teams', teamsCommand],
  ['orgs', orgsCommand],
  ['users', usersCommand],
  ['servers', serversCommand],
]);
