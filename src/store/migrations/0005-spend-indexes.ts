/**
 * Cheaper spend log writes. Every tools/call and listing appends a row, so each index on the table is
 * paid on every call (about 3 µs a row in the embedded engine, measured with batches of 360 rows).
 * Team and user indexes now hold only rows that have a team or user: the master key's and team-less
 * keys' rows cost nothing there, and a filter on a team or user (never NULL) still uses them. The
 * request id index stays: without it a lookup by request id with no dates reads the whole table.
 * IF EXISTS: an operator may have dropped one already. On a large PostgreSQL table the two builds
 * hold the table's lock while they run (within the migration's transaction); see docs/spend.md.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 5,
  name: 'spend-indexes',
  sql: `
DROP INDEX IF EXISTS toolgate_spend_logs_team;
DROP INDEX IF EXISTS toolgate_spend_logs_user;
CREATE INDEX toolgate_spend_logs_team ON toolgate_spend_logs (team_id, start_time) WHERE team_id IS NOT NULL;
CREATE INDEX toolgate_spend_logs_user ON toolgate_spend_logs (user_id, start_time) WHERE user_id IS NOT NULL;
`,
};

export default migration;
