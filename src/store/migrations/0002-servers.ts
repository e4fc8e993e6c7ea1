/**
 * MCP servers registered through the management API (general_settings.store_model_in_db). Column names
 * are LiteLLM's NewMCPServerRequest fields, so a row is its API object. Secret-bearing values are
 * sealed (store/sealed-values.ts) before they get here: `credentials` is one sealed JSON object,
 * `static_headers` and `env` keep their names in clear and their values sealed. Fields Toolgate
 * accepts without a column of their own (mcp_info, pinned_tools, ...) live in `extra`.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 2,
  name: 'servers',
  sql: `
CREATE TABLE toolgate_mcp_servers (
  server_id text PRIMARY KEY,
  server_name text NOT NULL UNIQUE,
  alias text,
  description text,
  transport text NOT NULL,
  url text,
  command text,
  args jsonb NOT NULL DEFAULT '[]',
  env jsonb NOT NULL DEFAULT '{}',
  auth_type text,
  credentials text,
  static_headers jsonb NOT NULL DEFAULT '{}',
  extra_headers jsonb NOT NULL DEFAULT '[]',
  mcp_access_groups jsonb NOT NULL DEFAULT '[]',
  allowed_tools jsonb,
  disallowed_tools jsonb,
  allowed_params jsonb,
  tool_name_to_display_name jsonb NOT NULL DEFAULT '{}',
  tool_name_to_description jsonb NOT NULL DEFAULT '{}',
  allow_all_keys boolean NOT NULL DEFAULT false,
  timeout double precision,
  extra jsonb NOT NULL DEFAULT '{}',
  created_by text,
  updated_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
};

export default migration;
