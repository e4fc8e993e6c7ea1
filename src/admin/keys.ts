import { abbreviateKey, customKeyProblem, generateKey, hashKey, isKeyHash, parseDuration } from '../caller/key-format.js';
import type { Queryable } from '../store/types.js';
import {
  checkPermission,
  checkWithinTeam,
  commit,
  deleteRow,
  insertRow,
  limitsOf,
  listRows,
  metadataOf,
  mustLoad,
  updateRow,
  view,
  type AdminContext,
} from './context.js';
import { keyDelete, keyGenerate, keyRef, keyRegenerate, keyUpdate, parse } from './fields.js';
import { AdminError, badRequest, forbidden, notFound } from './http.js';

/** `sk-...` (the key itself) or its 64-hex token: the id of a stored key. The plaintext never goes further than this. */
export function tokenOf(ref: string, param = 'key'): string {
  if (ref.startsWith('sk-')) return hashKey(ref);
  if (isKeyHash(ref)) return ref;
  throw badRequest(param, 'expected the key (sk-...) or its token (64 hex characters)');
}

/** A stored key as the API shows it; the plaintext is not in the row, so it cannot be shown. */
export function keyView(row: Record<string, unknown>): Record<string, unknown> {
  return { ...view(row), key_name: row.key_name };
}

function expiresOf(body: { duration?: string | null; expires?: string | null }): Date | null | undefined {
  if (body.duration !== undefined && body.expires !== undefined && body.duration !== null && body.expires !== null) {
    throw badRequest('duration', 'set either duration or expires, not both');
  }
  if (body.duration) return new Date(Date.now() + parseDuration(body.duration)!);
  if (body.expires) return new Date(body.expires);
  if (body.duration === null || body.expires === null) return null;
  return undefined;
}

async function checkRefs(
  ctx: AdminContext,
  tx: Queryable,
  b: { team_id?: string | null; user_id?: string | null; organization_id?: string | null },
) {
  for (const [param, kind, table, col] of [
    ['team_id', 'team', 'toolgate_teams', 'team_id'],
    ['user_id', 'user', 'toolgate_users', 'user_id'],
    ['organization_id', 'organization', 'toolgate_organizations', 'organization_id'],
  ] as const) {
    const id = b[param];
    if (!id) continue;
    const rows = await tx.query(`SELECT 1 FROM ${table} WHERE ${col} = $1`, [id]);
    if (rows.length === 0)
      throw badRequest(param, `no ${kind} ${JSON.stringify(id)}; create it first (POST /${kind}/new) or leave ${param} out`);
  }
}

async function aliasFree(tx: Queryable, alias: string | null | undefined, except?: string): Promise<void> {
  if (!alias) return;
  const rows = await tx.query('SELECT token FROM toolgate_keys WHERE key_alias = $1', [alias]);
  if (rows.length > 0 && rows[0].token !== except)
    throw badRequest('key_alias', `${JSON.stringify(alias)} is already used by another key; choose another alias`);
}

export async function generate(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(keyGenerate, raw);
  if (b.key !== undefined) {
    const problem = customKeyProblem(b.key);
    if (problem) throw badRequest('key', problem);
  }
  checkPermission(ctx, b.object_permission);
  checkWithinTeam(ctx, b.object_permission, b.team_id);
  const key = b.key ?? generateKey();
  const expires = expiresOf(b) ?? null;
  const row = await commit(ctx, async (tx) => {
    await checkRefs(ctx, tx, b);
    await aliasFree(tx, b.key_alias);
    const token = hashKey(key);
    if ((await tx.query('SELECT 1 FROM toolgate_keys WHERE token = $1', [token])).length > 0)
      throw badRequest('key', 'this key already exists; choose another or leave key out');
    const r = await insertRow(tx, 'key', {
      token,
      key_name: abbreviateKey(key),
      key_alias: b.key_alias ?? null,
      team_id: b.team_id ?? null,
      user_id: b.user_id ?? null,
      organization_id: b.organization_id ?? null,
      expires,
      blocked: b.blocked ?? false,
      object_permission: b.object_permission ?? {},
      limits: limitsOf(b),
      metadata: metadataOf(b),
      created_by: ctx.actor,
    });
    return { result: r, changes: [{ kind: 'key' as const, id: token, action: 'key.generate', after: keyView(r) }] };
  });
  // The one response that carries the plaintext.
  return { ...keyView(row), key, token_id: row.token };
}

export async function update(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(keyUpdate, raw);
  const token = tokenOf(b.key);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'key', token, 'key');
    const teamId = b.team_id !== undefined ? b.team_id : (before.team_id as string | null);
    if (b.object_permission !== undefined) checkPermission(ctx, b.object_permission);
    checkWithinTeam(ctx, b.object_permission !== undefined ? b.object_permission : (before.object_permission as object), teamId);
    await checkRefs(ctx, tx, b);
    await aliasFree(tx, b.key_alias, token);
    const after = await updateRow(tx, 'key', token, {
      key_alias: b.key_alias,
      team_id: b.team_id,
      user_id: b.user_id,
      organization_id: b.organization_id,
      expires: expiresOf(b),
      blocked: b.blocked,
      object_permission: b.object_permission === null ? {} : b.object_permission,
      limits: limitsOf(b, before.limits as Record<string, unknown>),
      metadata: b.metadata || b.tags || b.guardrails ? metadataOf(b, before.metadata as Record<string, unknown>) : undefined,
    });
    return {
      result: after,
      changes: [{ kind: 'key' as const, id: token, action: 'key.update', before: keyView(before), after: keyView(after) }],
    };
  });
  return { key: row.token, ...keyView(row) };
}

export async function remove(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(keyDelete, raw);
  if (!b.keys?.length && !b.key_aliases?.length)
    throw badRequest('keys', 'send {"keys": [...]} (keys or tokens) or {"key_aliases": [...]}');
  const deleted = await commit(ctx, async (tx) => {
    const tokens = (b.keys ?? []).map((k) => tokenOf(k, 'keys'));
    for (const alias of b.key_aliases ?? []) {
      const rows = await tx.query('SELECT token FROM toolgate_keys WHERE key_alias = $1', [alias]);
      if (!rows[0]) throw notFound(`Key not found: key_aliases contains ${JSON.stringify(alias)}, which no key has`, 'key_aliases');
      tokens.push(String(rows[0].token));
    }
    const changes = [];
    for (const token of new Set(tokens)) {
      const before = await deleteRow(tx, 'key', token);
      if (!before) throw notFound(`Key not found: keys contains ${token}, which does not exist (already deleted?)`, 'keys');
      changes.push({ kind: 'key' as const, id: token, action: 'key.delete', before: keyView(before) });
    }
    return { result: changes.map((c) => c.id), changes };
  });
  return { deleted_keys: deleted };
}

async function setBlocked(ctx: AdminContext, raw: Record<string, unknown>, blocked: boolean): Promise<unknown> {
  const token = tokenOf(parse(keyRef, raw).key);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'key', token, 'key');
    const after = await updateRow(tx, 'key', token, { blocked });
    return {
      result: after,
      changes: [
        { kind: 'key' as const, id: token, action: blocked ? 'key.block' : 'key.unblock', before: keyView(before), after: keyView(after) },
      ],
    };
  });
  return keyView(row);
}
export const block = (ctx: AdminContext, raw: Record<string, unknown>) => setBlocked(ctx, raw, true);
export const unblock = (ctx: AdminContext, raw: Record<string, unknown>) => setBlocked(ctx, raw, false);

/** `POST /key/{key}/regenerate`: a new secret for the same key record (grants, alias, limits); the old one stops working at once. */
export async function regenerate(ctx: AdminContext, ref: string, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(keyRegenerate, raw);
  const token = tokenOf(ref);
  if (b.grace_period !== undefined) throw badRequest('grace_period', 'not supported: the old key stops working at once');
  if (b.new_key !== undefined) {
    const problem = customKeyProblem(b.new_key);
    if (problem) throw badRequest('new_key', problem);
  }
  const key = b.new_key ?? generateKey();
  const newToken = hashKey(key);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'key', token, 'key');
    const rows = await tx.query('UPDATE toolgate_keys SET token = $1, key_name = $2, updated_at = now() WHERE token = $3 RETURNING *', [
      newToken,
      abbreviateKey(key),
      token,
    ]);
    const after = rows[0];
    return {
      result: after,
      changes: [
        { kind: 'key' as const, id: token, action: 'key.regenerate', before: keyView(before), after: keyView(after) },
        { kind: 'key' as const, id: newToken, action: 'key.regenerate', after: keyView(after) },
      ],
    };
  });
  return { ...keyView(row), key, token_id: row.token };
}

/** `GET /key/info?key=`: admins for any key; anyone else only for their own (and without ?key=, their own). */
export async function info(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const own = ctx.caller.identity?.token;
  const ref = q.get('key');
  const token = ref ? tokenOf(ref) : own;
  if (!token) throw badRequest('key', 'name the key: GET /key/info?key=sk-... (or its token)');
  if (!isAdmin(ctx) && ctx.caller.identity?.userRole !== 'proxy_admin_viewer' && token !== own)
    throw forbidden('Only proxy admins may look up other keys; this key may read only its own /key/info', 'key');
  const rows = await listRows(ctx.store, 'key', 'WHERE token = $1', [token]);
  if (!rows[0]) throw notFound(`Key not found: ${token}`, 'key');
  return { key: token, info: keyView(rows[0]) };
}

/** `GET /key/list`: tokens by default (LiteLLM), whole objects with return_full_object=true. */
export async function list(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const p of ['team_id', 'user_id', 'organization_id', 'key_alias']) {
    const v = q.get(p);
    if (v) {
      params.push(v);
      where.push(`${p} = $${params.length}`);
    }
  }
  const page = positiveInt(q, 'page', 1);
  const size = positiveInt(q, 'size', 100, 1000);
  const all = await listRows(ctx.store, 'key', where.length ? 'WHERE ' + where.join(' AND ') : '', params);
  const slice = all.slice((page - 1) * size, page * size);
  const full = q.get('return_full_object') === 'true';
  return {
    keys: full ? slice.map(keyView) : slice.map((r) => r.token),
    total_count: all.length,
    current_page: page,
    total_pages: Math.max(1, Math.ceil(all.length / size)),
  };
}

export function positiveInt(q: URLSearchParams, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = q.get(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(name, `must be a whole number from 1 to ${max}`);
  return n;
}

export function isAdmin(ctx: AdminContext): boolean {
  return ctx.caller.isMaster || ctx.caller.identity?.admin === true;
}

export { AdminError };
