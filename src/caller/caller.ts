import type { CallerAccess } from './access.js';
import type { LevelPolicy, UserRole } from './identity.js';

/** Who is asking: the master key, or a virtual key from the identity snapshot. */
export interface Caller {
  /** Stable, non-secret id of the key (a hash prefix), used to bind sessions and in logs. */
  keyId: string;
  isMaster: boolean;
  /** What the caller may use; undefined means unrestricted (the master key). */
  access?: CallerAccess;
  /** A virtual key's identity (for limits, spend and the admin check); absent for the master key. */
  identity?: CallerIdentity;
}

export interface CallerIdentity {
  /** SHA-256 hex of the key (LiteLLM's `token`). */
  token: string;
  /** `sk-...abcd`, safe to log. */
  keyName: string;
  keyAlias?: string;
  teamId?: string;
  userId?: string;
  userRole?: UserRole;
  /** The key's own organization, else its team's. */
  organizationId?: string;
  /** The key belongs to a proxy_admin user: it may use the management API. */
  admin: boolean;
  /**
   * Limits and guardrails at each level this key belongs to, as the snapshot held them when the caller
   * was resolved (a change to any of them drops the cached caller). Limits, budgets and guardrails read these.
   */
  levels: { key: LevelPolicy; team?: LevelPolicy; user?: LevelPolicy; organization?: LevelPolicy };
}

/** Why a presented key gives no caller; the message names the reason, never the key. */
export type KeyRefusal = { reason: 'missing' | 'unknown' | 'expired' | 'blocked'; message: string };
