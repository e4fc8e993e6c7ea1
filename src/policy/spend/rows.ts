/** How one tools/call or listing ended, as its spend log row says. */
export type Outcome = 'ok' | 'error' | 'denied' | 'limited' | 'over_budget' | 'blocked';

export type CallType = 'call_mcp_tool' | 'list_mcp_tools';

/** One spend log row, as queued in memory and written to toolgate_spend_logs (column names). */
export interface SpendRow {
  request_id: string;
  start_time: string;
  end_time: string;
  /** The key's SHA-256 (LiteLLM's hashed `api_key`), or `master` for the master key. */
  api_key: string;
  key_alias: string | null;
  team_id: string | null;
  user_id: string | null;
  organization_id: string | null;
  /** The server, or the aggregate's servers joined with `,` for a listing on `/mcp`. */
  server: string | null;
  /** `server/tool`; null for a listing. */
  tool: string | null;
  call_type: CallType;
  outcome: Outcome;
  upstream_ms: number | null;
  total_ms: number;
  spend: number;
}

/** The columns, in order, with the types jsonb_to_recordset reads them as. */
export const ROW_COLUMNS = [
  ['request_id', 'text'],
  ['start_time', 'timestamptz'],
  ['end_time', 'timestamptz'],
  ['api_key', 'text'],
  ['key_alias', 'text'],
  ['team_id', 'text'],
  ['user_id', 'text'],
  ['organization_id', 'text'],
  ['server', 'text'],
  ['tool', 'text'],
  ['call_type', 'text'],
  ['outcome', 'text'],
  ['upstream_ms', 'double precision'],
  ['total_ms', 'double precision'],
  ['spend', 'double precision'],
] as const;
