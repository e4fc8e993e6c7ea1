/**
 * Cheaper spend log writes. Every tools/call and listing appends a row, so each index on the table is
 * paid on every call (about 3 µs a row in the embedded engine, measured with batches of 360 rows).
 * Team and user indexes now hold only rows that have a team or user: the master key's and team-less
 * keys' rows cost nothing there, and a filter on a team or user (never NULL) still uses them. The
 * request id index goes: a lookup by request id is a rare debugging query, and its time filter (or
 * the time index) bounds it.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 5,
  name: 'spend-indexes',
  sql: `
DROP INDEX toolgate_spend_logs_team;
DROP INDEX toolgate_spend_logs_user;
DROP INDEX toolgate_spend_logs_request;
CREATE INDEX toolgate_spend_logs_team ON toolgate_spend_logs (team_id, start_time) WHERE team_id IS NOT NULL;
CREATE INDEX toolgate_spend_logs_user ON toolgate_spend_logs (user_id, start_time) WHERE user_id IS NOT NULL;
`,
};

export default migration;
