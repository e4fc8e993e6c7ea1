import type { Logger } from 'pino';
import type { Env } from '../config/fields.js';
import { parseRecord } from '../config/stored-server.js';
import type { ServerConfig } from '../config/types.js';
import type { SealedValues } from '../store/sealed-values.js';
import { RESYNC_KIND, type Store } from '../store/types.js';
import type { ServerRegistry } from './registry.js';
import { checkStdioEnv } from '../upstream/stdio-policy.js';
import { loadServerRows, rowToRecord } from './stored-server-rows.js';

export const SERVER_KIND = 'server';

interface Applied {
  name: string;
  /** The row last applied (bookkeeping and extra fields for the API's views). */
  row: Record<string, unknown>;
  /** The row as read, to tell a real change from the echo of one already applied. */
  version: string;
}

/**
 * Keeps the registry equal to the stored servers (general_settings.store_model_in_db): all of them at
 * start, then one re-read per `server` change event, from this process (the write path applies its own
 * change before answering) or another replica (PostgreSQL NOTIFY). A resync, or the periodic reconcile,
 * re-reads everything. Config servers always win a name: a stored server that takes one is skipped
 * and logged (it can only happen when config.yaml gained the name after the server was stored).
 */
export class StoredServers {
  private readonly applied = new Map<string, Applied>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly registry: ServerRegistry,
    private readonly opts: {
      configNames: ReadonlySet<string>;
      seal?: SealedValues;
      env: Env;
      /** The config file: relative stdio paths of stored servers are relative to it, as config.yaml's are. */
      file: string;
      log: Logger;
    },
  ) {}

  async start(reconcileMs = 30_000): Promise<void> {
    await this.reloadAll();
    this.unsubscribe = this.store.onChange((change) => {
      if (change.kind === SERVER_KIND && change.id !== undefined) void this.refresh(change.id);
      else if (change.kind === RESYNC_KIND) void this.reloadAll();
    });
    this.timer = setInterval(() => void this.reloadAll(), reconcileMs);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  /** The stored server_id of a server name, when the name is a stored server's. */
  idOf(name: string): string | undefined {
    for (const [id, a] of this.applied) if (a.name === name) return id;
    return undefined;
  }

  /** The server name of a stored server_id, when it is applied. */
  nameOf(id: string): string | undefined {
    return this.applied.get(id)?.name;
  }

  /** The row of the stored server with this name, as last applied. */
  rowOf(name: string): Record<string, unknown> | undefined {
    for (const a of this.applied.values()) if (a.name === name) return a.row;
    return undefined;
  }

  /** Re-reads one stored server and applies it (or its removal). Serialised: events apply in order. */
  refresh(id: string): Promise<void> {
    return this.serial(async () => {
      const [row] = await loadServerRows(this.store, id);
      if (row) await this.apply(row);
      else await this.drop(id);
    });
  }

  reloadAll(): Promise<void> {
    return this.serial(async () => {
      const rows = await loadServerRows(this.store);
      const ids = new Set(rows.map((r) => String(r.server_id)));
      for (const id of [...this.applied.keys()]) if (!ids.has(id)) await this.drop(id);
      for (const row of rows) await this.apply(row);
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn).catch((err: Error) => this.opts.log.error({ err: err.message }, 'stored servers: refresh failed'));
    this.queue = next;
    return next;
  }

  private async apply(row: Record<string, unknown>): Promise<void> {
    const id = String(row.server_id);
    const version = JSON.stringify(row);
    const before = this.applied.get(id);
    if (before?.version === version) return;
    const config = this.definition(row);
    if (!config) return;
    if (before && before.name !== config.name) await this.drop(id);
    if (this.opts.configNames.has(config.name)) {
      this.opts.log.warn(
        { server: config.name, server_id: id },
        'stored server not loaded: config.yaml defines a server of the same name, and config.yaml wins; rename or delete the stored one',
      );
      return;
    }
    if (this.registry.has(config.name) && this.applied.get(id)) await this.registry.change(config);
    else if (this.registry.has(config.name)) {
      this.opts.log.warn({ server: config.name, server_id: id }, 'stored server not loaded: its name is taken by another stored server');
      return;
    } else this.registry.add(config);
    this.applied.set(id, { name: config.name, row, version });
    this.opts.log.info({ server: config.name, server_id: id, change: before ? 'changed' : 'added' }, 'stored server applied');
  }

  private definition(row: Record<string, unknown>): ServerConfig | undefined {
    try {
      const { config, problems } = parseRecord(rowToRecord(row, this.opts.seal), this.opts.env, this.opts.file);
      // A row written before env names were checked at write time must not start a program with them either.
      const env = config?.transport === 'stdio' ? checkStdioEnv(config.env) : undefined;
      if (env) problems.push({ param: `env.${env.name}`, message: env.message });
      else if (config) return config;
      this.opts.log.error({ server_id: row.server_id, problems: problems.map((p) => p.message) }, 'stored server is not valid; not loaded');
    } catch (err) {
      this.opts.log.error({ server_id: row.server_id, err: (err as Error).message }, 'stored server cannot be read; not loaded');
    }
    return undefined;
  }

  private async drop(id: string): Promise<void> {
    const a = this.applied.get(id);
    if (!a) return;
    this.applied.delete(id);
    if (this.registry.has(a.name)) await this.registry.remove(a.name);
    this.opts.log.info({ server: a.name, server_id: id }, 'stored server removed');
  }
}
