import type { ObjectPermission } from './grants.js';

/** LiteLLM's user roles; only proxy_admin may use the management API. */
export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * The limit and budget fields of one key, team, user or organization (LiteLLM's names; stored in the
 * row's `limits` jsonb). Absent or null: no limit at that level.
 */
export interface LevelLimits {
  rpm_limit?: number | null;
  max_parallel_requests?: number | null;
  /** Requests per minute per server: `{server: rpm}`. */
  mcp_rpm_limit?: Record<string, number> | null;
  /** Toolgate's own: requests per minute per tool, `{"server/tool": rpm}`. */
  mcp_tool_rpm_limit?: Record<string, number> | null;
  max_budget?: number | null;
  budget_duration?: string | null;
  soft_budget?: number | null;
  [field: string]: unknown;
}

/** What every identity level carries for the stages after access: its limits and (keys, teams) its guardrails. */
export interface LevelPolicy {
  limits?: LevelLimits;
  /** Guardrail names attached to this key or team (LiteLLM keeps them in `metadata.guardrails`). */
  guardrails?: string[];
}

/** The part of a stored key the request path needs, held in memory by the snapshot. Never the plaintext. */
export interface KeyRecord extends LevelPolicy {
  /** SHA-256 hex of the key: its id, LiteLLM's `token`. */
  token: string;
  /** `sk-...abcd`. */
  keyName: string;
  keyAlias?: string;
  teamId?: string;
  userId?: string;
  organizationId?: string;
  /** Epoch milliseconds; undefined never expires. */
  expiresAt?: number;
  blocked: boolean;
  objectPermission?: ObjectPermission;
}

export interface TeamRecord extends LevelPolicy {
  teamId: string;
  teamAlias?: string;
  organizationId?: string;
  blocked: boolean;
  objectPermission?: ObjectPermission;
}

export interface OrganizationRecord extends LevelPolicy {
  organizationId: string;
  organizationAlias?: string;
  objectPermission?: ObjectPermission;
}

export interface UserRecord extends LevelPolicy {
  userId: string;
  userRole: UserRole;
  objectPermission?: ObjectPermission;
}

/** Everything the snapshot holds, as loaded from the store in one go. */
export interface IdentityData {
  keys: KeyRecord[];
  teams: TeamRecord[];
  organizations: OrganizationRecord[];
  users: UserRecord[];
}
