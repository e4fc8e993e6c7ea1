/**
 * Tool pins (rug-pull protection): the description and input schema each tool of a pinned server must
 * keep. A row in toolgate_pinned_servers says the server is pinned from the store (by an admin, or
 * learned with `pin_tools: true`), even with no tools; its tools' pins are in toolgate_tool_pins.
 */
import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 4,
  name: 'pins',
  sql: `
CREATE TABLE toolgate_pinned_servers (
  server_name text PRIMARY KEY,
  pinned_by text NOT NULL,
  pinned_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE toolgate_tool_pins (
  server_name text NOT NULL REFERENCES toolgate_pinned_servers (server_name) ON DELETE CASCADE,
  tool_name text NOT NULL,
  description text,
  input_schema jsonb,
  PRIMARY KEY (server_name, tool_name)
);
`,
};

export default migration;
