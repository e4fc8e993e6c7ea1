/** The generated grant combinations and the reference model of LiteLLM's rules, shared by the access tests. */
import { type AccessRules, type AccessServer, type GrantLevels, type ObjectPermission } from '../../src/caller/grants.js';

export { rng } from '../helpers/rng.js';

export const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'eps'];
const GROUPS = ['g1', 'g2', 'g3'];
export const TOOLS = ['t1', 't2', 't3'];

function subset<T>(r: () => number, items: readonly T[], p = 0.4): T[] {
  return items.filter(() => r() < p);
}

function genPermission(r: () => number): ObjectPermission | undefined {
  if (r() < 0.25) return undefined;
  const p: ObjectPermission = {};
  if (r() < 0.6) {
    const names: string[] = subset(r, [...NAMES, 'unknown-server']);
    if (r() < 0.05) names.push('no-mcp-servers');
    if (r() < 0.05) names.push('all-proxy-mcpservers');
    p.mcp_servers = names;
  }
  if (r() < 0.4) p.mcp_access_groups = subset(r, [...GROUPS, 'g-unknown']);
  if (r() < 0.4) {
    p.mcp_tool_permissions = {};
    for (const s of subset(r, NAMES)) p.mcp_tool_permissions[s] = subset(r, TOOLS, 0.5);
  }
  return p;
}

export function genCase(r: () => number): { servers: AccessServer[]; levels: GrantLevels; rules: AccessRules } {
  const servers = subset(r, NAMES, 0.8).map((name) => ({ name, accessGroups: subset(r, GROUPS, 0.3), allowAllKeys: r() < 0.15 }));
  const levels: GrantLevels = { key: genPermission(r) };
  if (r() < 0.6) levels.team = genPermission(r) ?? {};
  if (r() < 0.3) levels.user = genPermission(r) ?? {};
  if (r() < 0.4) levels.organization = genPermission(r) ?? {};
  return { servers, levels, rules: { requireKeyAccessDefined: r() < 0.3, defaultDeny: r() < 0.3 } };
}

/**
 * The reference model: the rules restated per server and per tool as plain boolean questions, with no
 * shared code, so a slip in the set algebra of computeAccess shows up as a disagreement.
 */
export function modelAllows(c: ReturnType<typeof genCase>, server: AccessServer, tool: string): boolean {
  const all = [c.levels.key, c.levels.team, c.levels.user, c.levels.organization];
  const hasList = (p?: ObjectPermission) => (p?.mcp_servers?.length ?? 0) > 0 || (p?.mcp_access_groups?.length ?? 0) > 0;
  const names = (p?: ObjectPermission) => p?.mcp_servers ?? [];
  if (all.some((p) => names(p).includes('no-mcp-servers'))) return false;
  const lists = (p: ObjectPermission | undefined) =>
    names(p).includes(server.name) ||
    names(p).includes('all-proxy-mcpservers') ||
    (p?.mcp_access_groups ?? []).some((g) => server.accessGroups.includes(g));

  const anyList = hasList(c.levels.key) || hasList(c.levels.team) || hasList(c.levels.user) || hasList(c.levels.organization);
  let serverOk: boolean;
  if (server.allowAllKeys) serverOk = true;
  else if (!hasList(c.levels.key) && c.rules.requireKeyAccessDefined) serverOk = false;
  else if (!anyList) serverOk = !c.rules.defaultDeny;
  else {
    serverOk = true;
    for (const p of all) if (hasList(p) && !lists(p)) serverOk = false;
  }
  if (!serverOk) return false;
  for (const p of all) {
    const perms = p?.mcp_tool_permissions;
    if (perms && Object.hasOwn(perms, server.name) && !perms[server.name].includes(tool)) return false;
  }
  return true;
}
