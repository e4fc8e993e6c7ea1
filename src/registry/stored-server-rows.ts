import type { ServerRecord } from '../config/stored-server.js';
import { isMapping } from '../config/fields.js';
import { isSealed, type SealedValues } from '../store/sealed-values.js';
import type { Queryable } from '../store/types.js';

export const SERVER_TABLE = 'toolgate_mcp_servers';

/** Record fields with a column of their own (the rest go to `extra`). */
const COLUMNS = [
  'server_id',
  'server_name',
  'alias',
  'description',
  'transport',
  'url',
  'command',
  'args',
  'env',
  'auth_type',
  'credentials',
  'static_headers',
  'extra_headers',
  'mcp_access_groups',
  'allowed_tools',
  'disallowed_tools',
  'allowed_params',
  'tool_name_to_display_name',
  'tool_name_to_description',
  'allow_all_keys',
  'timeout',
] as const;
const JSON_COLUMNS = new Set([
  'args',
  'env',
  'static_headers',
  'extra_headers',
  'mcp_access_groups',
  'allowed_tools',
  'disallowed_tools',
  'allowed_params',
  'tool_name_to_display_name',
  'tool_name_to_description',
  'extra',
]);
/** Bookkeeping columns: shown by the API, never part of the server's definition. */
export const META_COLUMNS = ['created_by', 'updated_by', 'created_at', 'updated_at'] as const;

/** A URL that can carry a secret: a query string (`?api_key=`) or userinfo (refused at write time, sealed if ever met). */
function urlMayHoldSecret(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    const u = new URL(url);
    return u.search !== '' || u.username !== '' || u.password !== '';
  } catch {
    return true;
  }
}

/**
 * What a record carries that must be sealed at rest: credentials, header and env values, a URL with
 * a query string, and stdio args (any of them may be `--token ghp_…`; telling which is guesswork).
 */
export function secretsOf(record: ServerRecord): string[] {
  const found: string[] = [];
  if (urlMayHoldSecret(record.url)) found.push('url');
  if (Array.isArray(record.args) && record.args.length) found.push('args');
  if (isMapping(record.credentials) && Object.values(record.credentials).some((v) => v !== undefined && v !== null && v !== ''))
    found.push('credentials');
  if (record.static_headers && Object.keys(record.static_headers).length) found.push('static_headers');
  if (record.env && Object.keys(record.env).length) found.push('env');
  return found;
}

/** The columns for a record, its secret-bearing values sealed (`seal` may be absent only when there are none). */
export function recordToColumns(record: ServerRecord, seal: SealedValues | undefined): Record<string, unknown> {
  const cols: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined) continue;
    if ((COLUMNS as readonly string[]).includes(k)) cols[k] = v;
    else extra[k] = v;
  }
  const secret = secretsOf(record);
  if (secret.length && !seal) throw new Error('no salt key to seal credentials with');
  cols.credentials = secret.includes('credentials') ? seal!.seal(JSON.stringify(record.credentials)) : null;
  cols.static_headers = secret.includes('static_headers') ? seal!.sealMap(record.static_headers!) : {};
  cols.env = secret.includes('env') ? seal!.sealMap(record.env!) : {};
  // url and args stay plain when they cannot hold a secret (a bare URL, no args), so an old row reads the same.
  if (secret.includes('url')) cols.url = seal!.seal(record.url!);
  if (secret.includes('args')) cols.args = seal!.seal(JSON.stringify(record.args));
  cols.extra = extra;
  return cols;
}

/** The record a row stores, its sealed values opened. Throws (naming no value) when they do not open. */
export function rowToRecord(row: Record<string, unknown>, seal: SealedValues | undefined): ServerRecord {
  const record: Record<string, unknown> = { ...(row.extra as Record<string, unknown>) };
  for (const c of COLUMNS) if (row[c] !== null && row[c] !== undefined) record[c] = row[c];
  const need = (what: string) => {
    if (!seal) throw new Error(`stored server ${JSON.stringify(row.server_name)} has sealed ${what} but no salt key is set`);
    return seal;
  };
  if (typeof row.credentials === 'string') record.credentials = JSON.parse(need('credentials').open(row.credentials));
  if (isSealed(row.url)) record.url = need('url').open(row.url);
  if (isSealed(row.args)) record.args = JSON.parse(need('args').open(row.args));
  const headers = row.static_headers as Record<string, string>;
  if (Object.keys(headers).length) record.static_headers = need('static_headers').openMap(headers);
  else delete record.static_headers;
  const env = row.env as Record<string, string>;
  if (Object.keys(env).length) record.env = need('env').openMap(env);
  else delete record.env;
  return record as ServerRecord;
}

export async function loadServerRows(db: Queryable, id?: string): Promise<Record<string, unknown>[]> {
  return id === undefined
    ? db.query(`SELECT * FROM ${SERVER_TABLE} ORDER BY created_at, server_id`)
    : db.query(`SELECT * FROM ${SERVER_TABLE} WHERE server_id = $1`, [id]);
}

export async function insertServerRow(tx: Queryable, cols: Record<string, unknown>): Promise<Record<string, unknown>> {
  const names = Object.keys(cols);
  const values = names.map((k) => (JSON_COLUMNS.has(k) ? JSON.stringify(cols[k]) : cols[k]));
  const casts = names.map((k, i) => `$${i + 1}${JSON_COLUMNS.has(k) ? '::jsonb' : ''}`);
  const rows = await tx.query(`INSERT INTO ${SERVER_TABLE} (${names.join(', ')}) VALUES (${casts.join(', ')}) RETURNING *`, values);
  return rows[0]!;
}

/** Replaces every definition column (a record is always written whole) and the bookkeeping. */
export async function replaceServerRow(tx: Queryable, id: string, cols: Record<string, unknown>): Promise<Record<string, unknown>> {
  const all: Record<string, unknown> = {};
  for (const c of COLUMNS) if (c !== 'server_id') all[c] = cols[c] ?? null;
  all.extra = cols.extra ?? {};
  all.updated_by = cols.updated_by ?? null;
  for (const k of [
    'args',
    'env',
    'static_headers',
    'extra_headers',
    'mcp_access_groups',
    'tool_name_to_display_name',
    'tool_name_to_description',
  ])
    all[k] ??= k === 'args' || k === 'extra_headers' || k === 'mcp_access_groups' ? [] : {};
  all.allow_all_keys ??= false;
  const names = Object.keys(all);
  const values = names.map((k) => (JSON_COLUMNS.has(k) && all[k] !== null ? JSON.stringify(all[k]) : all[k]));
  const sets = names.map((k, i) => `${k} = $${i + 1}${JSON_COLUMNS.has(k) ? '::jsonb' : ''}`);
  const rows = await tx.query(
    `UPDATE ${SERVER_TABLE} SET ${sets.join(', ')}, updated_at = now() WHERE server_id = $${names.length + 1} RETURNING *`,
    [...values, id],
  );
  return rows[0]!;
}
