import type { ServerSource } from '../../registry/registry.js';
import type { Upstream } from '../../upstream/upstream.js';

type Item = Record<string, unknown>;

/** Upstream pages followed at most, so a server answering with cursors forever cannot hold a call. */
const MAX_PAGES = 100;

/**
 * A pinned server's tools as the upstream lists them now, and word when they may have changed: what
 * pinning needs when a call comes before any listing passed through, or after a list_changed.
 */
export class UpstreamTools {
  private source?: ServerSource;
  private readonly detach = new Map<string, () => void>();

  constructor(private readonly onChanged: (server: string) => void) {}

  /** Starts following the registry's servers (their list_changed notifications and reconnections). */
  attach(source: ServerSource): void {
    this.source = source;
    for (const name of source.names()) this.watch(name, source.get(name));
    source.subscribe((e) => {
      this.detach.get(e.name)?.();
      this.detach.delete(e.name);
      if (e.type !== 'removed') this.watch(e.name, e.upstream);
      this.onChanged(e.name);
    });
  }

  /** Every tool the server lists now, over its warm shared session. */
  async list(server: string): Promise<Item[]> {
    const upstream = this.source?.get(server);
    if (!upstream) throw new Error(`server ${server} is not defined`);
    const session = await upstream.sharedSession({});
    const tools: Item[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await session.request('tools/list', cursor === undefined ? undefined : { cursor });
      if (Array.isArray(result.tools)) tools.push(...(result.tools as Item[]));
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return tools;
  }

  private watch(name: string, upstream: Upstream | undefined): void {
    if (!upstream) return;
    const listener = (method: string) => {
      if (method === '*' || method === 'notifications/tools/list_changed') this.onChanged(name);
    };
    upstream.listChangedListeners.add(listener);
    this.detach.set(name, () => upstream.listChangedListeners.delete(listener));
  }
}
