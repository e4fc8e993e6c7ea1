/**
 * Keys, teams, organizations, users and the audit trail. Column names are LiteLLM's field names, so a
 * row is its API object; limit and budget fields live in one jsonb (stored now, enforced by the limits
 * work) so adding one needs no migration. Keys are stored only as their SHA-256 (`token`).
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 1,
  name: 'identity',
  sql: `
CREATE TABLE toolgate_organizations (
  organization_id text PRIMARY KEY,
  organization_alias text,
  object_permission jsonb NOT NULL DEFAULT '{}',
  limits jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  members jsonb NOT NULL DEFAULT '[]',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE toolgate_teams (
  team_id text PRIMARY KEY,
  team_alias text,
  organization_id text,
  members_with_roles jsonb NOT NULL DEFAULT '[]',
  object_permission jsonb NOT NULL DEFAULT '{}',
  limits jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  blocked boolean NOT NULL DEFAULT false,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE toolgate_users (
  user_id text PRIMARY KEY,
  user_email text,
  user_alias text,
  user_role text NOT NULL DEFAULT 'internal_user',
  organization_id text,
  object_permission jsonb NOT NULL DEFAULT '{}',
  limits jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE toolgate_keys (
  token text PRIMARY KEY,
  key_name text NOT NULL,
  key_alias text UNIQUE,
  team_id text,
  user_id text,
  organization_id text,
  expires timestamptz,
  blocked boolean NOT NULL DEFAULT false,
  object_permission jsonb NOT NULL DEFAULT '{}',
  limits jsonb NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX toolgate_keys_team ON toolgate_keys (team_id);
CREATE INDEX toolgate_keys_user ON toolgate_keys (user_id);
CREATE TABLE toolgate_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  object_type text NOT NULL,
  object_id text,
  before jsonb,
  after jsonb
);
CREATE INDEX toolgate_audit_at ON toolgate_audit (at);
CREATE INDEX toolgate_audit_actor ON toolgate_audit (actor, at);
CREATE INDEX toolgate_audit_object ON toolgate_audit (object_type, object_id, at);
`,
};

export default migration;
