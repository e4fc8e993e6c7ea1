import type { Caller } from '../../caller/caller.js';
import type { LevelLimits } from '../../caller/identity.js';

/** The identity levels spend is added to, in the order budgets are checked (LiteLLM: key first). */
export type SpendLevel = 'key' | 'team' | 'user' | 'organization';

/** LiteLLM's word for each level in "ExceededBudget: <Word>=<name> over budget". */
export const LEVEL_WORD: Record<SpendLevel, string> = { key: 'Key', team: 'Team', user: 'User', organization: 'Organization' };

export interface CallerLevel {
  level: SpendLevel;
  /** The key's token (SHA-256), or the team, user or organization id. */
  id: string;
  /** How the refusal names it: the key's alias, else its abbreviated name; the id for the others. */
  label: string;
  limits?: LevelLimits;
}

/** The levels a virtual key's call is priced at; none for the master key (it has no identity). */
export function callerLevels(caller: Caller): CallerLevel[] {
  const id = caller.identity;
  if (!id) return [];
  const out: CallerLevel[] = [{ level: 'key', id: id.token, label: id.keyAlias ?? id.keyName, limits: id.levels.key.limits }];
  if (id.teamId) out.push({ level: 'team', id: id.teamId, label: id.teamId, limits: id.levels.team?.limits });
  if (id.userId) out.push({ level: 'user', id: id.userId, label: id.userId, limits: id.levels.user?.limits });
  if (id.organizationId)
    out.push({ level: 'organization', id: id.organizationId, label: id.organizationId, limits: id.levels.organization?.limits });
  return out;
}

/** Whether any of the caller's levels has a hard budget (the budget hook's cheap `applies`). */
export function hasBudget(caller: Caller): boolean {
  const l = caller.identity?.levels;
  if (!l) return false;
  return (
    l.key.limits?.max_budget != null ||
    l.team?.limits?.max_budget != null ||
    l.user?.limits?.max_budget != null ||
    l.organization?.limits?.max_budget != null
  );
}
