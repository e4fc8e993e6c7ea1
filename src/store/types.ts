/**
 * The store behind the control plane: one interface, two engines speaking the same PostgreSQL SQL
 * (an embedded engine by default, PostgreSQL when DATABASE_URL is set). Only the control plane uses it;
 * the request path reads in-memory snapshots refreshed from its change events.
 */
export interface Queryable {
  /** Runs one statement with $1, $2... parameters and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /**
   * Runs `COPY ... FROM '/dev/blob'` with `data` as its input, where the engine can (the embedded one):
   * for bulk appends COPY costs about a third less CPU than an INSERT over jsonb_to_recordset.
   */
  copyFrom?(sql: string, data: string): Promise<void>;
}

/** A change another part of the control plane (in this process or another replica) must react to. */
export interface StoreChange {
  /**
   * What changed: 'key', 'team', 'organization', 'user', 'server', ... The store itself sends
   * RESYNC_KIND when a replica's change feed was interrupted (changes may have been missed): reload all.
   */
  kind: string;
  /** The changed object's id, when there is one. */
  id?: string;
}

/** Sent by the store after its LISTEN connection came back: notifications may have been lost meanwhile. */
export const RESYNC_KIND = 'resync';

export interface Store extends Queryable {
  readonly engine: 'embedded' | 'postgres';
  /** Runs fn in one transaction: all its statements commit together or none does. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Announces a change after it committed: listeners in this process hear it at once, listeners on
   * other replicas sharing the PostgreSQL within about a second (LISTEN/NOTIFY).
   */
  publish(change: StoreChange): Promise<void>;
  /** Subscribes to changes from this process and from other replicas; returns the unsubscribe. */
  onChange(listener: (change: StoreChange) => void): () => void;
  close(): Promise<void>;
}
