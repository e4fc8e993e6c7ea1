import type { Logger } from 'pino';
import type { StoreChange } from './types.js';

/**
 * The in-process half of change events, shared by both engines: listeners hear a change synchronously
 * when it is published here, so the process that made a change sees it before its response goes out.
 */
export class ChangeHub {
  readonly #listeners = new Set<(change: StoreChange) => void>();

  constructor(private readonly log?: Logger) {}

  on(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(change: StoreChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        // One broken subscriber must not keep the others (or the publisher) from hearing the change.
        this.log?.error({ err: (err as Error).message, kind: change.kind }, 'store change listener failed');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
