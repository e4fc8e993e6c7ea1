import { randomUUID } from 'node:crypto';
import {
  checkPermission,
  commit,
  insertRow,
  limitsOf,
  listRows,
  metadataOf,
  mustLoad,
  updateRow,
  view,
  type AdminContext,
} from './context.js';
import { deleteWithKeys } from './cascade.js';
import { parse, userDelete, userNew, userUpdate } from './fields.js';
import { badRequest, notFound } from './http.js';
import { generate, keyView, positiveInt } from './keys.js';
import { spendInfo } from './spend-info.js';

/** `POST /user/new`; like LiteLLM it also generates a key for the user unless `auto_create_key: false`. */
export async function create(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(userNew, raw);
  checkPermission(ctx, b.object_permission);
  const id = b.user_id ?? randomUUID();
  const row = await commit(ctx, async (tx) => {
    if ((await tx.query('SELECT 1 FROM toolgate_users WHERE user_id = $1', [id])).length)
      throw badRequest('user_id', `user ${JSON.stringify(id)} already exists`);
    const r = await insertRow(tx, 'user', {
      user_id: id,
      user_email: b.user_email ?? null,
      user_alias: b.user_alias ?? null,
      user_role: b.user_role ?? 'internal_user',
      organization_id: b.organization_id ?? null,
      object_permission: b.object_permission ?? {},
      limits: limitsOf(b),
      metadata: metadataOf(b),
      created_by: ctx.actor,
    });
    return { result: r, changes: [{ kind: 'user' as const, id, action: 'user.new', after: view(r) }] };
  });
  if (b.auto_create_key === false) return view(row);
  const key = (await generate(ctx, { user_id: id })) as { key: string; token_id: string };
  return { ...view(row), key: key.key, token: key.token_id };
}

export async function update(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(userUpdate, raw);
  if (b.object_permission !== undefined) checkPermission(ctx, b.object_permission);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'user', b.user_id, 'user_id');
    const after = await updateRow(tx, 'user', b.user_id, {
      user_email: b.user_email,
      user_alias: b.user_alias,
      user_role: b.user_role,
      organization_id: b.organization_id,
      object_permission: b.object_permission === null ? {} : b.object_permission,
      limits: limitsOf(b, before.limits as Record<string, unknown>),
      metadata: b.metadata ? metadataOf(b, before.metadata as Record<string, unknown>) : undefined,
    });
    return {
      result: after,
      changes: [{ kind: 'user' as const, id: b.user_id, action: 'user.update', before: view(before), after: view(after) }],
    };
  });
  return view(row);
}

/** Deleting a user deletes the user's keys: keys belong to people, and a departed person's keys must stop working. */
export async function remove(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(userDelete, raw);
  if (b.user_ids.length === 0) throw badRequest('user_ids', 'name at least one user');
  await commit(ctx, async (tx) => ({ result: undefined, changes: await deleteWithKeys(tx, 'user', b.user_ids) }));
  return { deleted_users: b.user_ids };
}

export async function info(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const id = q.get('user_id');
  if (!id) throw badRequest('user_id', 'is required: GET /user/info?user_id=...');
  const rows = await listRows(ctx.store, 'user', 'WHERE user_id = $1', [id]);
  if (!rows[0]) throw notFound(`User not found: user_id=${id}`, 'user_id');
  const keys = await listRows(ctx.store, 'key', 'WHERE user_id = $1', [id]);
  const teams = await ctx.store.query(`SELECT team_id FROM toolgate_teams WHERE members_with_roles @> $1::jsonb ORDER BY team_id`, [
    JSON.stringify([{ user_id: id }]),
  ]);
  return {
    user_id: id,
    user_info: { ...view(rows[0]), ...(await spendInfo(ctx.store, 'user', id)) },
    keys: keys.map(keyView),
    teams: teams.map((t) => t.team_id),
  };
}

export async function list(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const role = q.get('role') ?? q.get('user_role');
  const rows = role ? await listRows(ctx.store, 'user', 'WHERE user_role = $1', [role]) : await listRows(ctx.store, 'user');
  const page = positiveInt(q, 'page', 1);
  const size = positiveInt(q, 'page_size', 25, 1000);
  return {
    users: rows.slice((page - 1) * size, page * size).map(view),
    total: rows.length,
    page,
    page_size: size,
    total_pages: Math.max(1, Math.ceil(rows.length / size)),
  };
}
