import { createHash } from 'node:crypto';
import { UNRESTRICTED, type CallerAccess } from './access.js';

/** LiteLLM's `object_permission`, the MCP part, as stored on keys, teams, users and organizations. */
export interface ObjectPermission {
  mcp_servers?: string[];
  mcp_access_groups?: string[];
  /** `{server: [original tool name, ...]}`: restricts that server's tools; never grants the server (LiteLLM #33397). */
  mcp_tool_permissions?: Record<string, string[]>;
}

/** What the access rules need to know about one configured server. */
export interface AccessServer {
  name: string;
  accessGroups: readonly string[];
  /** LiteLLM's `allow_all_keys`: every caller may use it, whatever its lists say (except `no-mcp-servers`). */
  allowAllKeys: boolean;
}

export interface AccessRules {
  /** `general_settings.require_key_mcp_access_defined`: a key without its own list gets nothing (the team list is only a ceiling). */
  requireKeyAccessDefined: boolean;
  /** Toolgate's `default_mcp_access: deny`: no list anywhere means no server (LiteLLM's default is every server). */
  defaultDeny: boolean;
}

export const LITELLM_RULES: AccessRules = Object.freeze({ requireKeyAccessDefined: false, defaultDeny: false });

/** The grant levels of one caller; a level that does not exist (no team, no organization) is absent. */
export interface GrantLevels {
  key?: ObjectPermission;
  team?: ObjectPermission;
  user?: ObjectPermission;
  organization?: ObjectPermission;
}

/** Denies every server, at whatever level it appears. */
export const NO_SERVERS = 'no-mcp-servers';
/** Every configured server, as an explicit list. */
export const ALL_PROXY_SERVERS = 'all-proxy-mcpservers';
/** On a key: exactly the team's list (the same as leaving the key's list empty). */
export const ALL_TEAM_SERVERS = 'all-team-mcpservers';
export const SENTINELS: readonly string[] = [NO_SERVERS, ALL_PROXY_SERVERS, ALL_TEAM_SERVERS];

type Level = Set<string> | 'deny' | 'inherit' | undefined;

/** One level's server list: undefined when it has none, 'deny' for no-mcp-servers. Unknown names are dropped. */
function levelServers(p: ObjectPermission | undefined, servers: readonly AccessServer[]): Level {
  const names = p?.mcp_servers ?? [];
  const groups = p?.mcp_access_groups ?? [];
  if (names.length === 0 && groups.length === 0) return undefined;
  if (names.includes(NO_SERVERS)) return 'deny';
  if (names.includes(ALL_PROXY_SERVERS)) return new Set(servers.map((s) => s.name));
  const out = new Set<string>();
  const wanted = new Set(names);
  const wantedGroups = new Set(groups);
  for (const s of servers) {
    if (wanted.has(s.name) || s.accessGroups.some((g) => wantedGroups.has(g))) out.add(s.name);
  }
  if (names.includes(ALL_TEAM_SERVERS) && out.size === 0 && groups.length === 0) return 'inherit';
  return out;
}

function intersect(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return new Set([...a].filter((x) => b.has(x)));
}

/**
 * LiteLLM's rules for which servers a caller may use, in one place:
 * - a key without a list inherits its team's (nothing, with require_key_mcp_access_defined);
 * - key and team both listed: the intersection; access groups expand into their level's list;
 * - the user's list intersects further; the organization's list caps everything below it;
 * - no list anywhere: every server (or none, with Toolgate's default_mcp_access: deny);
 * - allow_all_keys servers are always added; `no-mcp-servers` at any level denies everything.
 * Tool permissions intersect per server across levels, restrict only servers already granted, and never grant one.
 */
export function computeAccess(levels: GrantLevels, servers: readonly AccessServer[], rules: AccessRules = LITELLM_RULES): CallerAccess {
  let key = levelServers(levels.key, servers);
  const team = levelServers(levels.team, servers);
  const user = levelServers(levels.user, servers);
  const org = levelServers(levels.organization, servers);
  const deny = key === 'deny' || team === 'deny' || user === 'deny' || org === 'deny';
  let granted: Set<string> | undefined;
  if (!deny) {
    const t = team as Set<string> | undefined;
    // An explicit all-team-mcpservers is a defined list, so require_key_mcp_access_defined is satisfied.
    const explicitInherit = key === 'inherit';
    if (explicitInherit) key = undefined;
    const k = key as Set<string> | undefined;
    if (k === undefined && !explicitInherit && rules.requireKeyAccessDefined) granted = new Set();
    else granted = intersect(k, t);
    granted = intersect(granted, user as Set<string> | undefined);
    granted = intersect(granted, org as Set<string> | undefined);
    if (granted === undefined && rules.defaultDeny) granted = new Set();
    if (granted !== undefined) for (const s of servers) if (s.allowAllKeys) granted.add(s.name);
  }
  const serverSet = deny ? new Set<string>() : granted;
  const tools = toolRestrictions(levels, servers, serverSet);
  if (serverSet === undefined && tools === undefined) return UNRESTRICTED;
  return { servers: serverSet, tools, fingerprint: fingerprintOf(serverSet, tools) };
}

/** Per server, the intersection of the tool lists of every level that names it; only for servers the caller may use. */
function toolRestrictions(
  levels: GrantLevels,
  servers: readonly AccessServer[],
  granted: Set<string> | undefined,
): Map<string, Set<string>> | undefined {
  let out: Map<string, Set<string>> | undefined;
  for (const level of [levels.key, levels.team, levels.user, levels.organization]) {
    const perms = level?.mcp_tool_permissions;
    if (!perms) continue;
    for (const s of servers) {
      if (!Object.hasOwn(perms, s.name) || (granted !== undefined && !granted.has(s.name))) continue;
      const list = new Set(perms[s.name]);
      out ??= new Map();
      const prior = out.get(s.name);
      out.set(s.name, prior ? new Set([...prior].filter((t) => list.has(t))) : list);
    }
  }
  return out;
}

/** Equal exactly when the access is equal: a canonical form, hashed so it stays short as a cache key. */
function fingerprintOf(servers: Set<string> | undefined, tools: Map<string, Set<string>> | undefined): string {
  const canon = JSON.stringify([
    servers ? [...servers].sort() : null,
    tools ? [...tools.entries()].map(([s, t]) => [s, [...t].sort()]).sort((a, b) => (a[0] < b[0] ? -1 : 1)) : null,
  ]);
  return 'acl:' + createHash('sha256').update(canon).digest('base64url').slice(0, 22);
}

/** The servers a level's list names once expanded (for the write-time team check and messages). */
export function expandList(p: ObjectPermission | undefined, servers: readonly AccessServer[]): string[] | undefined {
  const level = levelServers(p, servers);
  if (level === undefined || level === 'inherit') return undefined;
  return level === 'deny' ? [] : [...level].sort();
}
