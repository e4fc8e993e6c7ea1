import identity from './0001-identity.js';
import servers from './0002-servers.js';
import spend from './0003-spend.js';
import pins from './0004-pins.js';
import spendIndexes from './0005-spend-indexes.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/**
 * Every migration this build knows, in order. Add a module (`0001-identity.ts` exporting
 * `{ version, name, sql }`) and list it here; tsc ships it with the rest of src/.
 */
export const MIGRATIONS: readonly Migration[] = [identity, servers, spend, pins, spendIndexes];
