import type { Logger } from 'pino';
import type { Caller } from '../caller/keys.js';
import { expandList, NO_SERVERS, SENTINELS, type ObjectPermission } from '../caller/grants.js';
import { TABLES, type ObjectKind, type Row } from '../caller/identity-rows.js';
import type { IdentitySnapshot } from '../caller/snapshot.js';
import type { SnapshotSync } from '../caller/snapshot-sync.js';
import type { Queryable, Store } from '../store/types.js';
import { recordAudit } from './audit.js';
import { badRequest, forbidden, notFound } from './http.js';
import { LIMIT_NAMES } from './fields.js';

export interface AdminDeps {
  store: Store;
  snapshot: IdentitySnapshot;
  sync: SnapshotSync;
  log: Logger;
}

/** One management request: who asks (for the audit trail) and what it may see. */
export interface AdminContext extends AdminDeps {
  caller: Caller;
  /** `master` or the caller's key id; never the key. */
  actor: string;
}

export interface Change {
  kind: ObjectKind;
  id: string;
  action: string;
  before?: unknown;
  after?: unknown;
}

/**
 * The one way a management write happens: its statements and its audit rows commit together, this
 * process's snapshot is updated before the response (so the next request sees it), and other replicas
 * hear of it through the store's change events.
 */
export async function commit<T>(ctx: AdminContext, fn: (tx: Queryable) => Promise<{ result: T; changes: Change[] }>): Promise<T> {
  const { result, changes } = await ctx.store.transaction(async (tx) => {
    const out = await fn(tx);
    for (const c of out.changes) {
      await recordAudit(tx, { actor: ctx.actor, action: c.action, objectType: c.kind, objectId: c.id, before: c.before, after: c.after });
    }
    return out;
  });
  for (const c of changes) await ctx.sync.refresh(c.kind, c.id);
  for (const c of changes) await ctx.store.publish({ kind: c.kind, id: c.id });
  return result;
}

/** A stored row as LiteLLM's API shows it: limit fields at the top level, times as ISO strings. */
export function view(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'limits') continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  const limits = (row.limits ?? {}) as Record<string, unknown>;
  for (const name of LIMIT_NAMES) out[name] = limits[name] ?? null;
  return out;
}

/** The limit fields present in a body, for the `limits` jsonb (merged over the stored ones on update). */
export function limitsOf(body: Record<string, unknown>, prior: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...prior };
  for (const name of LIMIT_NAMES) if (body[name] !== undefined) out[name] = body[name];
  return out;
}

/** Metadata with LiteLLM's habit of keeping tags and guardrails inside it. */
export function metadataOf(
  body: { metadata?: Record<string, unknown>; tags?: string[]; guardrails?: string[] },
  prior: Record<string, unknown> = {},
) {
  const out = { ...prior, ...(body.metadata ?? {}) };
  if (body.tags !== undefined) out.tags = body.tags;
  if (body.guardrails !== undefined) out.guardrails = body.guardrails;
  return out;
}

/** Server names and access groups must exist: a typo would otherwise grant nothing, silently. */
export function checkPermission(ctx: AdminContext, p: ObjectPermission | null | undefined, field = 'object_permission'): void {
  if (!p) return;
  const servers = ctx.snapshot.serverList();
  const known = new Set(servers.map((s) => s.name));
  const list = [...known].sort().join(', ') || '(no servers configured)';
  for (const name of p.mcp_servers ?? []) {
    if (!known.has(name) && !SENTINELS.includes(name)) {
      throw badRequest(
        `${field}.mcp_servers`,
        `unknown server ${JSON.stringify(name)}; configured servers: ${list}; or ${SENTINELS.join(', ')}`,
      );
    }
  }
  const groups = new Set(servers.flatMap((s) => s.accessGroups));
  for (const g of p.mcp_access_groups ?? []) {
    if (!groups.has(g)) {
      throw badRequest(
        `${field}.mcp_access_groups`,
        `unknown access group ${JSON.stringify(g)}; defined groups: ${[...groups].sort().join(', ') || '(none)'}`,
      );
    }
  }
  for (const name of Object.keys(p.mcp_tool_permissions ?? {})) {
    if (!known.has(name))
      throw badRequest(`${field}.mcp_tool_permissions`, `unknown server ${JSON.stringify(name)}; configured servers: ${list}`);
  }
}

/**
 * LiteLLM's write-time rule: a key may only be granted servers its team allows (plus allow_all_keys
 * servers); otherwise 403 naming both lists.
 */
export function checkWithinTeam(ctx: AdminContext, key: ObjectPermission | null | undefined, teamId: string | null | undefined): void {
  if (!key || !teamId) return;
  const team = ctx.snapshot.team(teamId);
  const servers = ctx.snapshot.serverList();
  const teamList = expandList(team?.objectPermission, servers);
  const keyList = expandList(key, servers);
  if (teamList === undefined || keyList === undefined || (key.mcp_servers ?? []).includes(NO_SERVERS)) return;
  const global = servers.filter((s) => s.allowAllKeys).map((s) => s.name);
  const extra = keyList.filter((s) => !teamList.includes(s) && !global.includes(s));
  if (extra.length > 0) {
    throw forbidden(
      `Key requests MCP servers not allowed by team '${teamId}': ${JSON.stringify(extra)}. Team allows: ${JSON.stringify(teamList)}. Global (allow_all_keys) servers: ${JSON.stringify(global)}`,
      'object_permission.mcp_servers',
    );
  }
}

const JSON_COLUMNS = new Set(['object_permission', 'limits', 'metadata', 'members', 'members_with_roles']);

function bind(cols: Record<string, unknown>): { names: string[]; values: unknown[]; casts: string[] } {
  const names = Object.keys(cols).filter((k) => cols[k] !== undefined);
  return {
    names,
    values: names.map((k) => (JSON_COLUMNS.has(k) ? JSON.stringify(cols[k] ?? {}) : cols[k])),
    casts: names.map((k, i) => `$${i + 1}${JSON_COLUMNS.has(k) ? '::jsonb' : ''}`),
  };
}

export async function insertRow(tx: Queryable, kind: ObjectKind, cols: Record<string, unknown>): Promise<Row> {
  const b = bind(cols);
  const rows = await tx.query(
    `INSERT INTO ${TABLES[kind].table} (${b.names.join(', ')}) VALUES (${b.casts.join(', ')}) RETURNING *`,
    b.values,
  );
  return rows[0];
}

/** Sets the given columns (undefined ones are left alone) and updated_at; the new row. */
export async function updateRow(tx: Queryable, kind: ObjectKind, id: string, cols: Record<string, unknown>): Promise<Row> {
  const b = bind(cols);
  const sets = b.names.map((n, i) => `${n} = ${b.casts[i]}`);
  sets.push('updated_at = now()');
  const rows = await tx.query(
    `UPDATE ${TABLES[kind].table} SET ${sets.join(', ')} WHERE ${TABLES[kind].id} = $${b.names.length + 1} RETURNING *`,
    [...b.values, id],
  );
  return rows[0];
}

export async function deleteRow(tx: Queryable, kind: ObjectKind, id: string): Promise<Row | undefined> {
  const rows = await tx.query(`DELETE FROM ${TABLES[kind].table} WHERE ${TABLES[kind].id} = $1 RETURNING *`, [id]);
  return rows[0];
}

/** The row, read inside the transaction (FOR UPDATE, so concurrent writers serialise), or a 404 naming the id. */
export async function mustLoad(tx: Queryable, kind: ObjectKind, id: string, param: string): Promise<Row> {
  const rows = await tx.query(`SELECT * FROM ${TABLES[kind].table} WHERE ${TABLES[kind].id} = $1 FOR UPDATE`, [id]);
  if (!rows[0]) throw notFound(`${kind === 'key' ? 'Key' : kind[0].toUpperCase() + kind.slice(1)} not found: ${param}=${id}`, param);
  return rows[0];
}

export async function listRows(db: Queryable, kind: ObjectKind, where = '', params: unknown[] = []): Promise<Row[]> {
  return db.query(`SELECT * FROM ${TABLES[kind].table} ${where} ORDER BY created_at, ${TABLES[kind].id}`, params);
}
