import type { Logger } from 'pino';
import { ChangeHub } from './changes.js';
import type { Queryable, Store, StoreChange } from './types.js';

/** What both engines share: local change delivery first, then the engine's own announcement; close once. */
export abstract class StoreBase implements Store {
  abstract readonly engine: Store['engine'];
  protected readonly changes: ChangeHub;
  #closed = false;

  constructor(log?: Logger) {
    this.changes = new ChangeHub(log);
  }

  abstract query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  abstract transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Tells other processes (PostgreSQL: NOTIFY); in-process listeners have heard it already. */
  protected abstract announce(change: StoreChange): Promise<void>;
  protected abstract shutdown(): Promise<void>;

  async publish(change: StoreChange): Promise<void> {
    this.changes.emit(change);
    await this.announce(change);
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.on(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.changes.clear();
    await this.shutdown();
  }
}
