import type { Queryable } from '../store/types.js';
import type { ObjectPermission } from './grants.js';
import {
  USER_ROLES,
  type IdentityData,
  type KeyRecord,
  type LevelLimits,
  type OrganizationRecord,
  type TeamRecord,
  type UserRecord,
  type UserRole,
} from './identity.js';

/** A row as the store returns it: LiteLLM field names, jsonb already parsed, timestamps as Date. */
export type Row = Record<string, unknown>;

/** Which table holds each kind of object, and its id column: one place for the admin API and the snapshot. */
export const TABLES = {
  key: { table: 'toolgate_keys', id: 'token' },
  team: { table: 'toolgate_teams', id: 'team_id' },
  organization: { table: 'toolgate_organizations', id: 'organization_id' },
  user: { table: 'toolgate_users', id: 'user_id' },
} as const;
export type ObjectKind = keyof typeof TABLES;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const perm = (v: unknown): ObjectPermission | undefined => (v && typeof v === 'object' ? (v as ObjectPermission) : undefined);
const limits = (v: unknown): LevelLimits | undefined =>
  v && typeof v === 'object' && Object.keys(v).length > 0 ? (v as LevelLimits) : undefined;
const guardrails = (metadata: unknown): string[] | undefined => {
  const g = metadata && typeof metadata === 'object' ? (metadata as { guardrails?: unknown }).guardrails : undefined;
  return Array.isArray(g) && g.length > 0 ? g.filter((x): x is string => typeof x === 'string') : undefined;
};
const time = (v: unknown): number | undefined => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : undefined);

export function keyRecord(r: Row): KeyRecord {
  return {
    token: String(r.token),
    keyName: String(r.key_name),
    keyAlias: str(r.key_alias),
    teamId: str(r.team_id),
    userId: str(r.user_id),
    organizationId: str(r.organization_id),
    expiresAt: r.expires === null || r.expires === undefined ? undefined : time(r.expires),
    blocked: r.blocked === true,
    objectPermission: perm(r.object_permission),
    limits: limits(r.limits),
    guardrails: guardrails(r.metadata),
  };
}

export function teamRecord(r: Row): TeamRecord {
  return {
    teamId: String(r.team_id),
    teamAlias: str(r.team_alias),
    organizationId: str(r.organization_id),
    blocked: r.blocked === true,
    objectPermission: perm(r.object_permission),
    limits: limits(r.limits),
    guardrails: guardrails(r.metadata),
  };
}

export function organizationRecord(r: Row): OrganizationRecord {
  return {
    organizationId: String(r.organization_id),
    organizationAlias: str(r.organization_alias),
    objectPermission: perm(r.object_permission),
    limits: limits(r.limits),
  };
}

export function userRecord(r: Row): UserRecord {
  const role = USER_ROLES.includes(r.user_role as UserRole) ? (r.user_role as UserRole) : 'internal_user';
  return { userId: String(r.user_id), userRole: role, objectPermission: perm(r.object_permission), limits: limits(r.limits) };
}

/** Everything the snapshot needs, in four reads. */
export async function loadIdentityData(db: Queryable): Promise<IdentityData> {
  const [keys, teams, organizations, users] = await Promise.all([
    db.query(
      'SELECT token, key_name, key_alias, team_id, user_id, organization_id, expires, blocked, object_permission, limits, metadata FROM toolgate_keys',
    ),
    db.query('SELECT team_id, team_alias, organization_id, blocked, object_permission, limits, metadata FROM toolgate_teams'),
    db.query('SELECT organization_id, organization_alias, object_permission, limits FROM toolgate_organizations'),
    db.query('SELECT user_id, user_role, object_permission, limits FROM toolgate_users'),
  ]);
  return {
    keys: keys.map(keyRecord),
    teams: teams.map(teamRecord),
    organizations: organizations.map(organizationRecord),
    users: users.map(userRecord),
  };
}

export async function loadRow(db: Queryable, kind: ObjectKind, id: string): Promise<Row | undefined> {
  const t = TABLES[kind];
  const rows = await db.query(`SELECT * FROM ${t.table} WHERE ${t.id} = $1`, [id]);
  return rows[0];
}
