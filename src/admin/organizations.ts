import { randomUUID } from 'node:crypto';
import {
  checkPermission,
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
  type Change,
} from './context.js';
import { orgDelete, orgMemberAdd, orgNew, orgUpdate, parse } from './fields.js';
import { badRequest, notFound } from './http.js';
import { mergeMembers } from './teams.js';
import { spendInfo } from './spend-info.js';

export async function create(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(orgNew, raw);
  checkPermission(ctx, b.object_permission);
  const id = b.organization_id ?? randomUUID();
  const row = await commit(ctx, async (tx) => {
    if ((await tx.query('SELECT 1 FROM toolgate_organizations WHERE organization_id = $1', [id])).length) {
      throw badRequest('organization_id', `organization ${JSON.stringify(id)} already exists`);
    }
    const r = await insertRow(tx, 'organization', {
      organization_id: id,
      organization_alias: b.organization_alias ?? null,
      object_permission: b.object_permission ?? {},
      limits: limitsOf(b),
      metadata: metadataOf(b),
      created_by: ctx.actor,
    });
    return { result: r, changes: [{ kind: 'organization' as const, id, action: 'organization.new', after: view(r) }] };
  });
  return view(row);
}

export async function update(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(orgUpdate, raw);
  if (b.object_permission !== undefined) checkPermission(ctx, b.object_permission);
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'organization', b.organization_id, 'organization_id');
    const after = await updateRow(tx, 'organization', b.organization_id, {
      organization_alias: b.organization_alias,
      object_permission: b.object_permission === null ? {} : b.object_permission,
      limits: limitsOf(b, before.limits as Record<string, unknown>),
      metadata: b.metadata ? metadataOf(b, before.metadata as Record<string, unknown>) : undefined,
    });
    return {
      result: after,
      changes: [
        { kind: 'organization' as const, id: b.organization_id, action: 'organization.update', before: view(before), after: view(after) },
      ],
    };
  });
  return view(row);
}

/** Refused while teams still belong to it: deleting an organization must not silently lift the ceiling on their keys. */
export async function remove(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(orgDelete, raw);
  if (b.organization_ids.length === 0) throw badRequest('organization_ids', 'name at least one organization');
  await commit(ctx, async (tx) => {
    const changes: Change[] = [];
    for (const id of b.organization_ids) {
      const teams = await tx.query('SELECT team_id FROM toolgate_teams WHERE organization_id = $1', [id]);
      if (teams.length) {
        throw badRequest(
          'organization_ids',
          `organization ${JSON.stringify(id)} still has teams (${teams.map((t) => t.team_id).join(', ')}); delete them or move them to another organization first`,
        );
      }
      const before = await deleteRow(tx, 'organization', id);
      if (!before) throw notFound(`Organization not found: organization_ids contains ${JSON.stringify(id)}`, 'organization_ids');
      changes.push({ kind: 'organization', id, action: 'organization.delete', before: view(before) });
    }
    return { result: undefined, changes };
  });
  return { deleted_organizations: b.organization_ids };
}

export async function info(ctx: AdminContext, q: URLSearchParams): Promise<unknown> {
  const id = q.get('organization_id');
  if (!id) throw badRequest('organization_id', 'is required: GET /organization/info?organization_id=...');
  const rows = await listRows(ctx.store, 'organization', 'WHERE organization_id = $1', [id]);
  if (!rows[0]) throw notFound(`Organization not found: organization_id=${id}`, 'organization_id');
  const teams = await listRows(ctx.store, 'team', 'WHERE organization_id = $1', [id]);
  return { ...view(rows[0]), ...(await spendInfo(ctx.store, 'organization', id)), teams: teams.map(view) };
}

export async function list(ctx: AdminContext): Promise<unknown> {
  return (await listRows(ctx.store, 'organization')).map(view);
}

export async function memberAdd(ctx: AdminContext, raw: Record<string, unknown>): Promise<unknown> {
  const b = parse(orgMemberAdd, raw);
  const added = Array.isArray(b.member) ? b.member : [b.member];
  const row = await commit(ctx, async (tx) => {
    const before = await mustLoad(tx, 'organization', b.organization_id, 'organization_id');
    const after = await updateRow(tx, 'organization', b.organization_id, { members: mergeMembers(before.members as [], added) });
    return {
      result: after,
      changes: [
        {
          kind: 'organization' as const,
          id: b.organization_id,
          action: 'organization.member_add',
          before: view(before),
          after: view(after),
        },
      ],
    };
  });
  return view(row);
}
