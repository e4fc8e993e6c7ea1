import { RESYNC_KIND, type Store } from '../store/types.js';
import { keyRecord, loadIdentityData, loadRow, organizationRecord, teamRecord, userRecord, type ObjectKind } from './identity-rows.js';
import type { IdentitySnapshot } from './snapshot.js';

const KINDS = new Set<string>(['key', 'team', 'organization', 'user']);

/**
 * Keeps a snapshot equal to the store: a full load at start, then one object re-read per change event
 * (from this process or, on PostgreSQL, another replica). A change whose re-read fails, or a missed
 * event, is repaired by the periodic full reload.
 */
export class SnapshotSync {
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly snapshot: IdentitySnapshot,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  async start(reconcileMs = 30_000): Promise<void> {
    this.snapshot.load(await loadIdentityData(this.store));
    this.unsubscribe = this.store.onChange((change) => {
      if (KINDS.has(change.kind) && change.id !== undefined) this.refresh(change.kind as ObjectKind, change.id).catch(this.onError);
      else if (change.kind === RESYNC_KIND) this.reloadAll().catch(this.onError);
    });
    this.timer = setInterval(() => this.reloadAll().catch(this.onError), reconcileMs);
    this.timer.unref();
  }

  async reloadAll(): Promise<void> {
    this.snapshot.load(await loadIdentityData(this.store));
  }

  /** Re-reads one object and puts it into the snapshot (or drops it when it is gone). */
  async refresh(kind: ObjectKind, id: string): Promise<void> {
    const row = await loadRow(this.store, kind, id);
    const s = this.snapshot;
    if (kind === 'key') return row ? s.putKey(keyRecord(row)) : s.dropKey(id);
    if (kind === 'team') return row ? s.putTeam(teamRecord(row)) : s.dropTeam(id);
    if (kind === 'organization') return row ? s.putOrganization(organizationRecord(row)) : s.dropOrganization(id);
    return row ? s.putUser(userRecord(row)) : s.dropUser(id);
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }
}
