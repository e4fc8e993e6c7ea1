import { randomUUID } from 'node:crypto';
import type { Queryable } from '../store/types.js';
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
import { parse, teamDelete, teamMemberAdd, teamMemberDelete, teamNew, teamUpdate } from './fields.js';
import { badRequest, notFound } from './http.js';
import { keyView } from './keys.js';
import { spendInfo } from './spend-info.js';

type Member = { user_id?: string; user_email?: string; role: 'admin' | 'user' };

async function orgExists(tx: Queryable, id: string | null | undefined): Promise<void> {
  if (!id) return;
  const rows = await tx.query('SELECT 1 FROM toolgate_organizations WHERE organization_id = $1', [id]);
  if (!rows.length) throw badRequest('organization_id', `no organization ${JSON.stringify(id)}; create it first (POST /organization/new)`);
}

/** Adds or replaces members by user_id (else user_email): adding a member twice changes its role, never duplicates it. */
export function mergeMembers(existing: Member[], added: Member[]): Member[] {
  const out = [...existing];
  for (const m of added) {
    const i = out.findIndex((e) => (m.user_id !== undefined ? e.user_id === m.user_id : e.user_email === m.user_email));
    if (i >= 0) out[i] = m;
    else out.push(m);
  }
  return out;
}

export async function create(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(teamNew, raw);
  checkPermission(ctx, b.object_permission);
  const id = b.team_id ?? randomUUID();
  const row = await commit(ctx, async (tx) => {
    await orgExists(tx, b.organization_id);
    if ((await tx.query('SELECT 1 FROM toolgate_teams WHERE team_id = $1', [id])).length)
      throw badRequest('team_id', `team ${JSON.stringify(id)} already exists`);
    const r = await insertRow(tx, 'team', {
      team_id: id,
      team_alias: b.team_alias ?? null,
      organization_id: b.organization_id ?? null,
      members_with_roles: mergeMembers([], b.members_with_roles ?? []),
      object_permission: b.object_permission ?? {},
      limits: limitsOf(b),
      metadata: metadataOf(b),
      blocked: b.blocked ?? false,
      created_by: ctx.actor,
    });
    return { result: r, changes: [{ kind: 'team' as const, id, action: 'team.new', after: view(r) }] };
  });
  return view(row);
}

export async function update(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(teamUpdate, raw);
  if (b.object_permission !== undefined) checkPermission(ctx, b.object_permission);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'team', b.team_id, 'team_id');
    await orgExists(tx, b.organization_id);
    const after = await updateRow(tx, 'team', b.team_id, {
      team_alias: b.team_alias,
      organization_id: b.organization_id,
      members_with_roles: b.members_with_roles ? mergeMembers([], b.members_with_roles) : undefined,
      object_permission: b.object_permission === null ? {} : b.object_permission,
      limits: limitsOf(b, before.limits as Record<string, unknown>),
      metadata: b.metadata || b.tags || b.guardrails ? metadataOf(b, before.metadata as Record<string, unknown>) : undefined,
      blocked: b.blocked,
    });
    return {
      result: after,
      changes: [{ kind: 'team' as const, id: b.team_id, action: 'team.update', before: view(before), after: view(after) }],
    };
  });
  return view(row);
}

/** Deleting a team deletes its keys, as in LiteLLM: a key must not outlive the grants it was issued under. */
export async function remove(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(teamDelete, raw);
  if (b.team_ids.length === 0) throw badRequest('team_ids', 'name at least one team');
  await commit(ctx, async (tx) => ({ result: undefined, changes: await deleteWithKeys(tx, 'team', b.team_ids) }));
  return { deleted_teams: b.team_ids };
}

export async function info(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const id = q.get('team_id');
  if (!id) throw badRequest('team_id', 'is required: GET /team/info?team_id=...');
  const rows = await listRows(ctx.store, 'team', 'WHERE team_id = $1', [id]);
  if (!rows[0]) throw notFound(`Team not found: team_id=${id}`, 'team_id');
  const keys = await listRows(ctx.store, 'key', 'WHERE team_id = $1', [id]);
  return { team_id: id, team_info: { ...view(rows[0]), ...(await spendInfo(ctx.store, 'team', id)) }, keys: keys.map(keyView) };
}

export async function list(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const org = q.get('organization_id');
  const rows = org ? await listRows(ctx.store, 'team', 'WHERE organization_id = $1', [org]) : await listRows(ctx.store, 'team');
  return rows.map(view);
}

export async function memberAdd(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(teamMemberAdd, raw);
  const added = Array.isArray(b.member) ? b.member : [b.member];
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'team', b.team_id, 'team_id');
    for (const m of added) {
      if (m.user_id && !(await tx.query('SELECT 1 FROM toolgate_users WHERE user_id = $1', [m.user_id])).length) {
        throw badRequest('member.user_id', `no user ${JSON.stringify(m.user_id)}; create it first (POST /user/new)`);
      }
    }
    const members = mergeMembers(before.members_with_roles as Member[], added);
    const after = await updateRow(tx, 'team', b.team_id, { members_with_roles: members });
    return {
      result: after,
      changes: [{ kind: 'team' as const, id: b.team_id, action: 'team.member_add', before: view(before), after: view(after) }],
    };
  });
  return view(row);
}

export async function memberDelete(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(teamMemberDelete, raw);
  if (!b.user_id && !b.user_email) throw badRequest('user_id', 'name the member: user_id or user_email');
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'team', b.team_id, 'team_id');
    const members = before.members_with_roles as Member[];
    const kept = members.filter((m) => (b.user_id ? m.user_id !== b.user_id : m.user_email !== b.user_email));
    if (kept.length === members.length)
      throw notFound(`Member not found in team ${b.team_id}: ${b.user_id ?? b.user_email}`, b.user_id ? 'user_id' : 'user_email');
    const after = await updateRow(tx, 'team', b.team_id, { members_with_roles: kept });
    return {
      result: after,
      changes: [{ kind: 'team' as const, id: b.team_id, action: 'team.member_delete', before: view(before), after: view(after) }],
    };
  });
  return view(row);
}
