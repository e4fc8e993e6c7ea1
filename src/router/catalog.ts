import type { Logger } from 'pino';
import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import { profileKey } from '../upstream/lease.js';
import type { ServerSource } from '../registry/registry.js';
import type { Upstream } from '../upstream/upstream.js';
import type { ListingKind } from './catalog-build.js';

type Item = Record<string, unknown>;

/**
 * Whom a listing is for: the client's capabilities and its era. A dual-era server may offer 2026-07-28
 * clients more than its 2025 sessions do (extensions, tools of that era only), so each era is listed
 * over a session of its own, as the server would answer that client directly.
 */
export interface ListingProfile {
  capabilities: Record<string, unknown>;
  modern: boolean;
}

export const LIST_METHOD: Record<ListingKind, { method: string; field: string; capability: string }> = {
  tools: { method: 'tools/list', field: 'tools', capability: 'tools' },
  prompts: { method: 'prompts/list', field: 'prompts', capability: 'prompts' },
  resources: { method: 'resources/list', field: 'resources', capability: 'resources' },
  resourceTemplates: { method: 'resources/templates/list', field: 'resourceTemplates', capability: 'resources' },
};

const CHANGED: Record<ListingKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

/** Which cached kinds an upstream `notifications/.../list_changed` makes stale ('*' = all). */
function kindsFor(method: string): ListingKind[] {
  if (method === 'notifications/tools/list_changed') return ['tools'];
  if (method === 'notifications/prompts/list_changed') return ['prompts'];
  if (method === 'notifications/resources/list_changed') return ['resources', 'resourceTemplates'];
  return ['tools', 'prompts', 'resources', 'resourceTemplates'];
}

export interface Listing {
  items: Item[];
  /** Set when the server could not be listed; items is then empty. */
  error?: string;
  /** Bumped on every refetch: lets merged views tell whether they are stale. */
  generation: number;
}

interface Entry {
  listing?: Listing;
  pending?: Promise<Listing>;
  fetchedAt: number;
  /** Bumped by invalidation while a fetch is in flight, so its stale answer is not kept. */
  epoch: number;
}

/** Upstream pages followed for one listing before giving up (a server that never ends its cursor chain). */
const MAX_PAGES = 1000;
/** A failed listing is retried after this long, so a dead server does not cost every request a timeout. */
const FAILURE_TTL_MS = 2_000;

/**
 * Complete listings per server, kind and client-capability profile, fetched over the server's warm
 * shared session (following upstream cursors to the end). Invalidated by upstream list_changed,
 * reconnects and a TTL; `tools/call` never reads or fills it.
 */
export class CatalogStore {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(server: string, method: string) => void>();
  private generation = 1;

  /** Per server: the Upstream we listen to for list_changed, and the listener to detach when it goes. */
  private readonly watched = new Map<string, { upstream: Upstream; listener: (method: string) => void }>();

  constructor(
    private readonly servers: ServerSource,
    private readonly opts: { ttlMs: number; listingTimeoutMs: number; log: Logger },
  ) {
    for (const name of servers.names()) this.watch(servers.get(name)!);
    // Servers defined, redefined or removed after start are listed (or forgotten) like the first ones.
    servers.subscribe((e) => {
      this.unwatch(e.name);
      if (e.type !== 'removed') this.watch(e.upstream);
      if (e.type !== 'added') this.drop(e.name);
      for (const l of this.listeners) l(e.name, '*');
    });
  }

  private watch(upstream: Upstream): void {
    const listener = (method: string) => this.invalidate(upstream.name, method);
    upstream.listChangedListeners.add(listener);
    this.watched.set(upstream.name, { upstream, listener });
  }

  private unwatch(server: string): void {
    const w = this.watched.get(server);
    w?.upstream.listChangedListeners.delete(w.listener);
    this.watched.delete(server);
  }

  /** Forgets a server's listings: what a replaced definition listed says nothing about the new one. */
  private drop(server: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(server + '\u0000')) this.entries.delete(key);
  }

  /** Called after a server's cached listings went stale: aggregates emit list_changed downstream. */
  onChange(listener: (server: string, method: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  invalidate(server: string, method: string): void {
    const kinds = kindsFor(method);
    // The same change reaches us once per upstream session (every profile, every dedicated session):
    // tell clients only if something was listed since the last announcement, so they hear it once.
    let fresh = false;
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(server + '\u0000')) continue;
      if (kinds.some((k) => key.endsWith('\u0000' + k))) {
        if (entry.fetchedAt !== 0 || entry.pending) fresh = true;
        // Kept for peek(): calls keep routing by the old names until the new listing arrives.
        entry.fetchedAt = 0;
        entry.pending = undefined;
        entry.epoch++;
      }
    }
    if (fresh) for (const l of this.listeners) l(server, method);
  }

  /** The last listing fetched, however old: routing a call by name must not wait for a relisting. */
  peek(server: string, kind: ListingKind, profile: ListingProfile): Listing | undefined {
    return this.entries.get(this.key(server, kind, profile))?.listing;
  }

  /** A server of the 2025 era answers both eras alike: one listing serves them. */
  private key(server: string, kind: ListingKind, profile: ListingProfile): string {
    const era = profile.modern && this.servers.get(server)?.era !== 'legacy' ? 'modern|' : '';
    return `${server}\u0000${era}${profileKey(profile.capabilities)}\u0000${kind}`;
  }

  /**
   * The server's complete listing of one kind for clients with these capabilities; never rejects.
   * A server whose last listing failed is retried in the background while its failure is served, so
   * a down or slow server costs the aggregate one listing timeout, not one per listing; when the retry
   * succeeds, clients hear list_changed. After an invalidation (list_changed, reconnect) we wait.
   */
  get(server: string, kind: ListingKind, profile: ListingProfile): Promise<Listing> {
    const key = this.key(server, kind, profile);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { fetchedAt: 0, epoch: 0 };
      this.entries.set(key, entry);
    }
    const now = Date.now();
    const listing = entry.listing;
    if (listing && now - entry.fetchedAt < (listing.error ? FAILURE_TTL_MS : this.opts.ttlMs)) return Promise.resolve(listing);
    const serveFailure = listing?.error !== undefined && entry.fetchedAt !== 0;
    if (!entry.pending) {
      const e = entry;
      const epoch = e.epoch;
      e.pending = this.fetch(server, kind, profile).then((l) => {
        if (e.epoch === epoch) {
          const recovered = e.listing?.error !== undefined && !l.error;
          e.listing = l;
          e.fetchedAt = Date.now();
          e.pending = undefined;
          if (recovered) for (const notify of this.listeners) notify(server, CHANGED[kind]);
        }
        return l;
      });
    }
    return serveFailure ? Promise.resolve(listing!) : entry.pending!;
  }

  private async fetch(server: string, kind: ListingKind, profile: ListingProfile): Promise<Listing> {
    const upstream = this.servers.get(server);
    if (!upstream) return { items: [], error: `server "${server}" was removed`, generation: this.generation++ };
    const spec = LIST_METHOD[kind];
    // One budget for the whole listing (every page); at the deadline the upstream request in
    // flight is cancelled, and the failure says which budget ran out.
    const budget = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`did not list ${kind} within ${this.opts.listingTimeoutMs / 1000} s`));
        budget.abort('listing timeout');
      }, this.opts.listingTimeoutMs);
    });
    try {
      const items = await Promise.race([this.fetchAll(upstream, spec, profile, budget.signal), timeout]);
      return { items, generation: this.generation++ };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.opts.log.warn({ server, kind, err: error }, 'listing failed');
      return { items: [], error, generation: this.generation++ };
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchAll(
    upstream: Upstream,
    spec: (typeof LIST_METHOD)[ListingKind],
    profile: ListingProfile,
    signal: AbortSignal,
  ): Promise<Item[]> {
    const session = await upstream.sharedSession(profile.capabilities, profile.modern);
    const caps = session.initializeResult?.capabilities;
    if (!isObject(caps) || !(spec.capability in caps)) return [];
    const items: Item[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      let result: Item;
      try {
        result = await session.request(spec.method, cursor === undefined ? undefined : { cursor }, { signal });
      } catch (err) {
        // A server with resources but no templates answers templates/list with "method not found".
        if (page === 0 && err instanceof McpError && err.code === ErrorCode.MethodNotFound) return [];
        throw err;
      }
      const got = result[spec.field];
      if (Array.isArray(got)) for (const it of got) if (isObject(it)) items.push(it);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (cursor === undefined) return items;
    }
    return items;
  }
}
