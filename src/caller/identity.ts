import type { ObjectPermission } from './grants.js';

/** LiteLLM's user roles; only proxy_admin may use the management API. */
export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The part of a stored key the request path needs, held in memory by the snapshot. Never the plaintext. */
export interface KeyRecord {
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

export interface TeamRecord {
  teamId: string;
  teamAlias?: string;
  organizationId?: string;
  blocked: boolean;
  objectPermission?: ObjectPermission;
}

export interface OrganizationRecord {
  organizationId: string;
  organizationAlias?: string;
  objectPermission?: ObjectPermission;
}

export interface UserRecord {
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
