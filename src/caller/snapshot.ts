import type { CallerAccess } from './access.js';
import { computeAccess, LITELLM_RULES, type AccessRules, type AccessServer } from './grants.js';
import type { IdentityData, KeyRecord, OrganizationRecord, TeamRecord, UserRecord, UserRole } from './identity.js';
import type { Caller, KeyRefusal } from './caller.js';

export type { KeyRefusal } from './caller.js';

/** Why a presented key does not resolve to a caller; each is a 401 with this message. */

/**
 * Keys by hash, teams, organizations and users, in memory: the request path resolves a caller here without
 * touching the store. The control plane writes through put/drop right after a change commits (and when a
 * change event arrives from another replica). Resolved callers, with their computed access, are cached
 * per key and dropped on any change: a change is rare, a request is not.
 */
export class IdentitySnapshot {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly teams = new Map<string, TeamRecord>();
  private readonly organizations = new Map<string, OrganizationRecord>();
  private readonly users = new Map<string, UserRecord>();
  private readonly callers = new Map<string, Caller>();
  private servers: readonly AccessServer[];

  constructor(
    servers: readonly AccessServer[],
    readonly rules: AccessRules = LITELLM_RULES,
  ) {
    this.servers = servers;
  }

  load(data: IdentityData): void {
    this.keys.clear();
    this.teams.clear();
    this.organizations.clear();
    this.users.clear();
    for (const k of data.keys) this.keys.set(k.token, k);
    for (const t of data.teams) this.teams.set(t.teamId, t);
    for (const o of data.organizations) this.organizations.set(o.organizationId, o);
    for (const u of data.users) this.users.set(u.userId, u);
    this.callers.clear();
  }

  /** The configured servers changed (added, removed, access groups or allow_all_keys edited). */
  setServers(servers: readonly AccessServer[]): void {
    this.servers = servers;
    this.callers.clear();
  }

  serverList(): readonly AccessServer[] {
    return this.servers;
  }

  putKey(k: KeyRecord): void {
    this.keys.set(k.token, k);
    this.callers.delete(k.token);
  }
  dropKey(token: string): void {
    this.keys.delete(token);
    this.callers.delete(token);
  }
  putTeam(t: TeamRecord): void {
    this.teams.set(t.teamId, t);
    this.callers.clear();
  }
  dropTeam(id: string): void {
    this.teams.delete(id);
    this.callers.clear();
  }
  putOrganization(o: OrganizationRecord): void {
    this.organizations.set(o.organizationId, o);
    this.callers.clear();
  }
  dropOrganization(id: string): void {
    this.organizations.delete(id);
    this.callers.clear();
  }
  putUser(u: UserRecord): void {
    this.users.set(u.userId, u);
    this.callers.clear();
  }
  dropUser(id: string): void {
    this.users.delete(id);
    this.callers.clear();
  }

  key(token: string): KeyRecord | undefined {
    return this.keys.get(token);
  }
  team(id: string): TeamRecord | undefined {
    return this.teams.get(id);
  }
  organization(id: string): OrganizationRecord | undefined {
    return this.organizations.get(id);
  }
  user(id: string): UserRecord | undefined {
    return this.users.get(id);
  }
  get size(): { keys: number; teams: number; organizations: number; users: number } {
    return { keys: this.keys.size, teams: this.teams.size, organizations: this.organizations.size, users: this.users.size };
  }

  /** What a key may use, from its own, its team's, its user's and its organization's grants. */
  accessOf(k: KeyRecord): CallerAccess {
    const team = k.teamId !== undefined ? this.teams.get(k.teamId) : undefined;
    const orgId = k.organizationId ?? team?.organizationId;
    const org = orgId !== undefined ? this.organizations.get(orgId) : undefined;
    const user = k.userId !== undefined ? this.users.get(k.userId) : undefined;
    return computeAccess(
      { key: k.objectPermission ?? {}, team: team?.objectPermission, user: user?.objectPermission, organization: org?.objectPermission },
      this.servers,
      this.rules,
    );
  }

  /** The caller for a key hash, or why there is none. `now` is a parameter so expiry is testable. */
  authenticate(token: string, now = Date.now()): Caller | KeyRefusal {
    const k = this.keys.get(token);
    if (!k) return { reason: 'unknown', message: 'Unauthorized: the key is not valid (unknown, deleted or regenerated)' };
    if (k.expiresAt !== undefined && k.expiresAt <= now) {
      return {
        reason: 'expired',
        message: `Authentication Error - Expired Key. Key Expiry time ${new Date(k.expiresAt).toISOString()} and current time ${new Date(now).toISOString()}`,
      };
    }
    if (k.blocked) return { reason: 'blocked', message: `Authentication Error - Key is blocked (${k.keyName}); an admin can unblock it` };
    const team = k.teamId !== undefined ? this.teams.get(k.teamId) : undefined;
    if (team?.blocked) return { reason: 'blocked', message: `Authentication Error - Team ${k.teamId} is blocked` };
    let caller = this.callers.get(token);
    if (!caller) {
      const user = k.userId !== undefined ? this.users.get(k.userId) : undefined;
      const role: UserRole | undefined = user?.userRole;
      const organizationId = k.organizationId ?? team?.organizationId;
      const org = organizationId !== undefined ? this.organizations.get(organizationId) : undefined;
      caller = {
        keyId: 'key:' + token.slice(0, 12),
        isMaster: false,
        access: this.accessOf(k),
        identity: {
          token,
          keyName: k.keyName,
          keyAlias: k.keyAlias,
          teamId: k.teamId,
          userId: k.userId,
          userRole: role,
          organizationId,
          admin: role === 'proxy_admin',
          levels: { key: k, team, user, organization: org },
        },
      };
      this.callers.set(token, caller);
    }
    return caller;
  }
}
