import pg from 'pg';
import type { Logger } from 'pino';
import { RESYNC_KIND, type StoreChange } from './types.js';

/** The one channel every replica LISTENs on; the payload says which schema and which replica sent it. */
export const CHANGES_CHANNEL = 'toolgate_changes';

/** What travels in a NOTIFY payload (well under PostgreSQL's 8000-byte limit). */
export interface ChangeNotice {
  /** The publishing store instance, so it does not hear its own change twice. */
  o: string;
  /** The schema it changed, so test runs and tenants sharing one database stay apart. */
  s: string;
  c: StoreChange;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5000;

/**
 * A dedicated connection that LISTENs for other replicas' changes (a pooled connection would be handed
 * back and lose its LISTEN). When the database goes away it reconnects with backoff and, once back,
 * reports a resync: notifications sent while it was away are lost, so subscribers must reload.
 */
export class ChangeListener {
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly origin: string,
    private readonly schema: string,
    private readonly deliver: (change: StoreChange) => void,
    private readonly log?: Logger,
  ) {}

  /** The first connection must work (start fails otherwise); later losses are retried in the background. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    // Named after its schema, so an operator (or a test) can tell the listening connections apart.
    const client = new pg.Client({ ...this.config, application_name: `toolgate listen ${this.schema}`.slice(0, 63) });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      let notice: ChangeNotice;
      try {
        notice = JSON.parse(msg.payload) as ChangeNotice;
      } catch {
        return;
      }
      if (notice.o === this.origin || notice.s !== this.schema || typeof notice.c?.kind !== 'string') return;
      this.deliver(notice.c);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#retryMs = FIRST_RETRY_MS;
  }

  #lost(client: pg.Client, err?: Error): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    this.log?.warn({ err: err?.message }, 'store change listener lost its connection; reconnecting');
    client.end().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().then(
        () => {
          if (this.#closed) return;
          this.log?.info('store change listener reconnected');
          this.deliver({ kind: RESYNC_KIND });
        },
        (err: Error) => {
          this.log?.debug({ err: err.message, retryMs: this.#retryMs }, 'store change listener still cannot connect');
          this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
          this.#schedule();
        },
      );
    }, this.#retryMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
