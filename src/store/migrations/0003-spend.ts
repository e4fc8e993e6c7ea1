/**
 * Spend: one row per priced level (key, team, user, organization) with its running spend and when its
 * budget resets, and one spend log row per tools/call and per listing. Written by the spend writer in
 * batches (src/policy/spend/writer.ts), never on a call's path; read by /spend/logs and the info routes.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 3,
  name: 'spend',
  sql: `
CREATE TABLE toolgate_spend (
  level text NOT NULL,
  id text NOT NULL,
  spend double precision NOT NULL DEFAULT 0,
  budget_reset_at timestamptz,
  soft_alerted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (level, id)
);
CREATE TABLE toolgate_spend_logs (
  id bigserial PRIMARY KEY,
  request_id text NOT NULL,
  start_time timestamptz NOT NULL,
  end_time timestamptz NOT NULL,
  api_key text NOT NULL,
  key_alias text,
  team_id text,
  user_id text,
  organization_id text,
  server text,
  tool text,
  call_type text NOT NULL,
  outcome text NOT NULL,
  upstream_ms double precision,
  total_ms double precision NOT NULL,
  spend double precision NOT NULL DEFAULT 0
);
CREATE INDEX toolgate_spend_logs_time ON toolgate_spend_logs (start_time);
CREATE INDEX toolgate_spend_logs_key ON toolgate_spend_logs (api_key, start_time);
CREATE INDEX toolgate_spend_logs_team ON toolgate_spend_logs (team_id, start_time);
CREATE INDEX toolgate_spend_logs_user ON toolgate_spend_logs (user_id, start_time);
CREATE INDEX toolgate_spend_logs_request ON toolgate_spend_logs (request_id);
`,
};

export default migration;
