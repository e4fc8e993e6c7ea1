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

const NAMES = ROW_COLUMNS.map((c) => c[0]);

/** INSERT over jsonb_to_recordset: one statement and one parameter for a whole batch (PostgreSQL). */
export const INSERT_ROWS = `INSERT INTO toolgate_spend_logs (${NAMES.join(', ')})
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(${ROW_COLUMNS.map((c) => c.join(' ')).join(', ')})`;

/** COPY in CSV, for an engine that takes COPY input (the embedded one). */
export const COPY_ROWS = `COPY toolgate_spend_logs (${NAMES.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`;

/**
 * PostgreSQL text holds neither U+0000 nor a lone surrogate, and one of them (a client chooses its
 * request id and the tool name it calls) would fail the whole batch again on every retry: each
 * becomes U+FFFD.
 */
const UNSTORABLE = /[\0\p{Cs}]/gu;
const storable = (v: string): string => v.replace(UNSTORABLE, '\ufffd');

/** A batch as INSERT_ROWS's parameter. */
export function rowsJson(rows: readonly SpendRow[]): string {
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' ? storable(v) : v));
}

/**
 * A batch as COPY_ROWS's input: every value quoted (quotes doubled) so commas, quotes and newlines in
 * names stay inside their field; an unquoted empty field is NULL, as is a number that is not finite.
 */
export function rowsCsv(rows: readonly SpendRow[]): string {
  let out = '';
  for (const r of rows) {
    for (let i = 0; i < NAMES.length; i++) {
      const v = r[NAMES[i]!];
      if (i > 0) out += ',';
      if (typeof v === 'number') out += Number.isFinite(v) ? String(v) : '';
      else if (v !== null && v !== undefined) out += `"${storable(v).replaceAll('"', '""')}"`;
    }
    out += '\n';
  }
  return out;
}
