import type { Queryable } from '../store/types.js';

/**
 * A level's spend and budget reset time for the info routes, as the spend writer stored them (within a
 * fraction of a second of the calls; every replica's spend is in it). A level nothing was charged to has 0.
 */
export async function spendInfo(
  db: Queryable,
  level: 'key' | 'team' | 'user' | 'organization',
  id: string,
): Promise<{ spend: number; budget_reset_at: string | null }> {
  const rows = await db.query<{ spend: number; budget_reset_at: Date | string | null }>(
    'SELECT spend, budget_reset_at FROM toolgate_spend WHERE level = $1 AND id = $2',
    [level, id],
  );
  const r = rows[0];
  if (!r) return { spend: 0, budget_reset_at: null };
  const at = r.budget_reset_at;
  return { spend: Number(Number(r.spend).toPrecision(12)), budget_reset_at: at === null ? null : new Date(at).toISOString() };
}
