import type { Caller } from '../../caller/caller.js';
import type { IdentitySnapshot } from '../../caller/snapshot.js';

/** The caller as the identity snapshot holds it now. */
export type CurrentCaller = (caller: Caller) => Caller;

/**
 * A 2025-era session keeps the Caller it was opened with; limits must follow the store, so an admin
 * who lowers a runaway key's limit stops it on its open session too. The snapshot's answer is a
 * cached Caller (a map lookup), dropped whenever a key, team, user or organization changes.
 */
export function currentCaller(snapshot: Pick<IdentitySnapshot, 'authenticate'>): CurrentCaller {
  return (caller) => {
    const token = caller.identity?.token;
    if (token === undefined) return caller;
    const now = snapshot.authenticate(token);
    // Expired or blocked since: the edge refuses its next request; this one keeps what it had.
    return 'keyId' in now ? now : caller;
  };
}
