import type { Logger } from 'pino';
import type { ServerConfig, ToolPin } from '../../config/types.js';
import type { ServerSource } from '../../registry/registry.js';
import { RESYNC_KIND, type Queryable, type Store } from '../../store/types.js';
import { fingerprint } from './fingerprint.js';

/** The change-event kind pins are published under (every replica reloads them). */
export const PINS_KIND = 'pins';

/** One server's pins: tool name → pin, with each pin's fingerprint computed once. */
export type ServerPins = ReadonlyMap<string, { pin: ToolPin; print: string }>;

type PinRow = { server_name: string; tool_name: string | null; description: string | null; input_schema: unknown };

function toPins(entries: Iterable<[string, ToolPin]>): Map<string, { pin: ToolPin; print: string }> {
  return new Map([...entries].map(([tool, pin]) => [tool, { pin, print: fingerprint(pin) }]));
}

/**
 * Which servers are pinned and to what, in memory for the request path. Three sources: the store
 * (admin pins, and learned `pin_tools` pins), which wins; then a server's `pinned_tools` in
 * config.yaml. A `pin_tools: true` server without stored pins learns them from its first listing.
 * Kept equal to the store by change events (LISTEN/NOTIFY across replicas).
 */
export class PinBook {
  private readonly fromConfig = new Map<string, ServerPins>();
  private readonly learning = new Set<string>();
  private stored = new Map<string, ServerPins>();
  /** Bumped on every change: listing views cached for the old pins are stale. */
  version = 0;
  private unsubscribe?: () => void;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Loads the stored pins and follows the store's changes. */
  async start(servers: readonly ServerConfig[]): Promise<void> {
    for (const s of servers) this.configure(s);
    this.unsubscribe = this.store.onChange((c) => {
      if (c.kind === PINS_KIND || c.kind === RESYNC_KIND)
        void this.reload().catch((err: Error) => this.log.warn({ err: err.message }, 'pin reload failed'));
    });
    await this.reload();
  }

  /** Follows servers defined or changed at runtime (their pinned_tools and pin_tools). */
  follow(source: ServerSource): void {
    source.subscribe((e) => {
      this.fromConfig.delete(e.name);
      this.learning.delete(e.name);
      if (e.type !== 'removed') this.configure(e.upstream.config);
      this.version++;
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** Whether calls and listings on this server are checked against pins. */
  pinned(server: string): boolean {
    return this.stored.has(server) || this.fromConfig.has(server) || this.learning.has(server);
  }

  /** The server's pins now; undefined for a `pin_tools` server that has not learned them yet (or an unpinned one). */
  pins(server: string): ServerPins | undefined {
    return this.stored.get(server) ?? this.fromConfig.get(server);
  }

  /** Whether the server learns its pins from what it lists first. */
  learns(server: string): boolean {
    return this.learning.has(server) && !this.stored.has(server);
  }

  /** Pins a server's tools as `tools` says (an admin's pin, or a first listing), at once in memory and then in the store. */
  async save(
    server: string,
    tools: Record<string, ToolPin>,
    actor: string,
    opts: { learned?: boolean; tx?: Queryable } = {},
  ): Promise<void> {
    this.stored.set(server, toPins(Object.entries(tools)));
    this.version++;
    const write = async (tx: Queryable) => {
      if (opts.learned) {
        // Learned pins: the first replica to write wins; the others reload its pins.
        const inserted = await tx.query(
          'INSERT INTO toolgate_pinned_servers (server_name, pinned_by) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING server_name',
          [server, actor],
        );
        if (inserted.length === 0) return;
      } else {
        await tx.query('DELETE FROM toolgate_pinned_servers WHERE server_name = $1', [server]);
        await tx.query('INSERT INTO toolgate_pinned_servers (server_name, pinned_by) VALUES ($1, $2)', [server, actor]);
      }
      for (const [tool, pin] of Object.entries(tools)) {
        await tx.query(
          'INSERT INTO toolgate_tool_pins (server_name, tool_name, description, input_schema) VALUES ($1, $2, $3, $4::jsonb)',
          [server, tool, pin.description ?? null, pin.inputSchema === undefined ? null : JSON.stringify(pin.inputSchema)],
        );
      }
    };
    if (opts.tx) await write(opts.tx);
    else await this.store.transaction(write);
    if (!opts.tx) await this.store.publish({ kind: PINS_KIND, id: server });
  }

  /** Removes the stored pins: the server falls back to its config pins, or learns again with pin_tools. */
  async clear(server: string, tx: Queryable): Promise<boolean> {
    const rows = await tx.query('DELETE FROM toolgate_pinned_servers WHERE server_name = $1 RETURNING server_name', [server]);
    this.stored.delete(server);
    this.version++;
    return rows.length > 0;
  }

  private configure(s: ServerConfig): void {
    if (s.pinnedTools && Object.keys(s.pinnedTools).length > 0) this.fromConfig.set(s.name, toPins(Object.entries(s.pinnedTools)));
    if (s.pinTools) this.learning.add(s.name);
  }

  /** Reads every stored pin again (after a change event, or a write that failed). */
  async reload(): Promise<void> {
    const rows = await this.store.query<PinRow>(
      'SELECT s.server_name, p.tool_name, p.description, p.input_schema FROM toolgate_pinned_servers s LEFT JOIN toolgate_tool_pins p ON p.server_name = s.server_name',
    );
    const next = new Map<string, Map<string, ToolPin>>();
    for (const r of rows) {
      let pins = next.get(r.server_name);
      if (!pins) next.set(r.server_name, (pins = new Map()));
      if (r.tool_name !== null)
        pins.set(r.tool_name, { description: r.description ?? undefined, inputSchema: r.input_schema ?? undefined });
    }
    this.stored = new Map([...next].map(([s, pins]) => [s, toPins(pins)]));
    this.version++;
  }
}
