import type { Queryable } from '../store/types.js';
import { abbreviateKey } from '../caller/key-format.js';
import { badRequest } from './http.js';
import { Where } from './where.js';

/** Field names whose values are credentials wherever they appear (in metadata, for example). */
const SECRET_NAME = /secret|password|passwd|api[-_]?key|auth|credential|private/i;
/** Ids and display forms that look like secrets by name but are not. */
const NOT_SECRET = new Set(['token', 'key_name', 'key_alias', 'keys', 'key_aliases']);

/** A copy with every credential-looking value replaced, and any `sk-` string longer than its abbreviation shortened. */
export function maskForAudit(value: unknown, name = ''): unknown {
  if (typeof value === 'string') {
    if (name && !NOT_SECRET.has(name) && SECRET_NAME.test(name)) return '***';
    return /^sk-.{8,}/.test(value) ? abbreviateKey(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => maskForAudit(v, name));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskForAudit(v, k)]));
  }
  return value;
}

export interface AuditEntry {
  actor: string;
  action: string;
  objectType: string;
  objectId?: string;
  before?: unknown;
  after?: unknown;
}

/** Recorded in the same transaction as the change it describes: no change without its audit row. */
export async function recordAudit(tx: Queryable, e: AuditEntry): Promise<void> {
  await tx.query(
    'INSERT INTO toolgate_audit (actor, action, object_type, object_id, before, after) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)',
    [
      e.actor,
      e.action,
      e.objectType,
      e.objectId ?? null,
      e.before === undefined ? null : JSON.stringify(maskForAudit(e.before)),
      e.after === undefined ? null : JSON.stringify(maskForAudit(e.after)),
    ],
  );
}

/** `GET /audit?actor=&object_type=&object_id=&action=&since=&until=&limit=`, newest first. */
export async function queryAudit(db: Queryable, q: URLSearchParams): Promise<{ entries: unknown[]; count: number }> {
  const where = new Where();
  where.equals(q, [
    ['actor', 'actor'],
    ['object_type', 'object_type'],
    ['object_id', 'object_id'],
    ['action', 'action'],
  ]);
  for (const [param, op] of [
    ['since', '>='],
    ['until', '<='],
  ] as const) {
    const v = q.get(param);
    if (!v) continue;
    if (Number.isNaN(Date.parse(v))) throw badRequest(param, 'expected an ISO 8601 time, e.g. 2026-12-01T10:00:00Z');
    where.add(`at ${op} ?::timestamptz`, new Date(v).toISOString());
  }
  const limitText = q.get('limit') ?? '100';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit', 'must be a whole number from 1 to 1000');
  const rows = await db.query(
    `SELECT id, at, actor, action, object_type, object_id, before, after FROM toolgate_audit ${where.sql} ORDER BY id DESC LIMIT ${limit}`,
    where.params,
  );
  const entries = rows.map((r) => ({ ...r, id: Number(r.id), at: r.at instanceof Date ? r.at.toISOString() : r.at }));
  return { entries, count: entries.length };
}
