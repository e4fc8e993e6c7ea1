import type { Queryable } from '../store/types.js';
import { deleteRow, view, type Change } from './context.js';
import { notFound } from './http.js';
import { keyView } from './keys.js';

/**
 * Deletes teams or users and, with each, the keys issued under it (LiteLLM's cascade: a key must not
 * outlive the team or person it was issued to), returning every change for the audit.
 */
export async function deleteWithKeys(tx: Queryable, kind: 'team' | 'user', ids: string[]): Promise<Change[]> {
  const changes: Change[] = [];
  const label = kind === 'team' ? 'Team' : 'User';
  for (const id of ids) {
    const before = await deleteRow(tx, kind, id);
    if (!before) throw notFound(`${label} not found: ${kind}_ids contains ${JSON.stringify(id)}`, `${kind}_ids`);
    changes.push({ kind, id, action: `${kind}.delete`, before: view(before) });
    for (const k of await tx.query(`DELETE FROM toolgate_keys WHERE ${kind}_id = $1 RETURNING *`, [id])) {
      changes.push({ kind: 'key', id: String(k.token), action: 'key.delete', before: keyView(k) });
    }
  }
  return changes;
}
