import type { Logger } from 'pino';
import type { Caller } from '../caller/keys.js';
import type { GatewaySettings, ServerConfig } from '../config/types.js';
import { freezeForJson } from '../mcp/frozen-json.js';
import type { TargetKind } from '../mcp/target.js';
import type { ServerSource } from '../registry/registry.js';
import { profileKey } from '../upstream/lease.js';
import { CatalogStore, type Listing, type ListingProfile } from './catalog.js';
import {
  buildListingTable,
  buildUriTable,
  mergeListing,
  type ListingKind,
  type NamedKind,
  type ServerListing,
  type ServerNaming,
  type UriTable,
} from './catalog-build.js';
import type { CursorCodec } from './cursor.js';
import type { RoutePolicy } from './route.js';
import { MIN_EXPOSED_NAME_LENGTH, type NameTable } from './names.js';
import type { TaskHandles } from './tasks.js';

type Result = Record<string, unknown>;

/** Merged views kept per (kind, scope, profile, access); beyond this the least recently used goes. */
const MAX_VIEWS = 512;

/** What each listing kind's items are to the policy stage. */
export const TARGET_KIND: Record<ListingKind, TargetKind> = {
  tools: 'tool',
  prompts: 'prompt',
  resources: 'resource',
  resourceTemplates: 'template',
};

export interface View {
  key: string;
  items: Result[];
  names?: NameTable;
  uris?: UriTable;
  /** Per server: the listing used, as this caller may see it (for templates and filter explanations). */
  listings: Map<string, Listing>;
  /** Per server: the listing before the policy, only to explain a refusal of what the server's own settings hide. */
  raw: Map<string, Listing>;
  outcomes: Record<string, ServerOutcome>;
}

/** One server's part in a merged listing, returned in `_meta['io.toolgate/servers']`. */
export interface ServerOutcome {
  ok: boolean;
  count?: number;
  error?: string;
  /** prefix_mode never: names this server also lists that another server's item took. */
  collisions?: Array<{ name: string; exposedBy: string }>;
}

/**
 * Page slices per view. A view is immutable once built (a rebuild makes a new one), so its pages and their JSON
 * text are too: repeated tools/list answers reuse both instead of slicing and serialising 1,000 items each time.
 */
const pages = new WeakMap<View, Map<number, Result[]>>();

export function pageOf(view: View, start: number, end: number): Result[] {
  let byStart = pages.get(view);
  if (!byStart) pages.set(view, (byStart = new Map()));
  let items = byStart.get(start);
  if (!items) byStart.set(start, (items = freezeForJson(view.items.slice(start, end))));
  return items;
}

export interface AggregateDeps {
  servers: ServerSource;
  policy: RoutePolicy;
  settings: GatewaySettings;
  log: Logger;
  tasks: TaskHandles;
  cursors: CursorCodec;
}

/**
 * Everything aggregate sessions share: the catalog, the merged views and the cursor codec. A view is
 * keyed by what the caller may see (its access fingerprint) as well as the scope and profile, so two
 * callers with different grants never share a view, a page or a cursor.
 */
export class AggregateCatalog {
  readonly catalog: CatalogStore;
  private readonly views = new Map<string, View>();
  private readonly maxNameLength: number;

  constructor(readonly deps: AggregateDeps) {
    const { settings, log } = deps;
    // Below this a shortened name would be mostly hash; the config accepts smaller values, names.ts does not.
    this.maxNameLength = Math.max(MIN_EXPOSED_NAME_LENGTH, settings.maxToolNameLength);
    if (this.maxNameLength !== settings.maxToolNameLength) {
      log.warn(
        { configured: settings.maxToolNameLength, used: this.maxNameLength },
        'max_tool_name_length raised to the smallest length that can hold a shortened name',
      );
    }
    this.catalog = new CatalogStore(deps.servers, { ttlMs: settings.catalogTtlMs, listingTimeoutMs: settings.listingTimeoutMs, log });
    // A view of a server that was redefined or removed must not be served again.
    deps.servers.subscribe((e) => {
      for (const [key, view] of this.views) if (view.listings.has(e.name)) this.views.delete(key);
    });
  }

  config(server: string): ServerConfig | undefined {
    return this.deps.servers.get(server)?.config;
  }

  /** The merged, named view of one kind for a scope, capability profile and caller (fresh listings). */
  async view(kind: ListingKind, servers: readonly string[], profile: ListingProfile, caller: Caller): Promise<View> {
    const listings = await Promise.all(servers.map((s) => this.catalog.get(s, kind, profile)));
    return this.build(kind, servers, profile, listings, caller);
  }

  /**
   * The view calls are routed by: each server's last listing however old (a call never waits on a
   * relisting, nor relists a healthy server because another one is down); only a server never
   * listed for this profile is listed now.
   */
  async routingView(kind: ListingKind, servers: readonly string[], profile: ListingProfile, caller: Caller): Promise<View> {
    const listings = await Promise.all(servers.map((s) => this.catalog.peek(s, kind, profile) ?? this.catalog.get(s, kind, profile)));
    return this.build(kind, servers, profile, listings, caller);
  }

  private build(kind: ListingKind, servers: readonly string[], profile: ListingProfile, listings: Listing[], caller: Caller): View {
    const era = profile.modern ? 'modern|' : '';
    const cacheKey = `${kind}|${servers.join(',')}|${era}${profileKey(profile.capabilities)}|${this.deps.policy.listingKey(caller)}`;
    const key = `${cacheKey}|${listings.map((l) => l.generation).join(',')}`;
    const cached = this.views.get(cacheKey);
    if (cached?.key === key) {
      this.views.delete(cacheKey);
      this.views.set(cacheKey, cached);
      return cached;
    }
    const { settings, policy } = this.deps;
    const perServer: ServerListing[] = [];
    const naming = new Map<string, ServerNaming>();
    // Keyed by server name, and `__proto__` is a valid one: no prototype to assign it to.
    const outcomes: View['outcomes'] = Object.create(null) as View['outcomes'];
    const byServer = new Map<string, Listing>();
    const raw = new Map<string, Listing>();
    servers.forEach((name, i) => {
      const cfg = this.config(name);
      if (!cfg) return;
      const listing = listings[i]!;
      raw.set(name, listing);
      // What this caller may see of the server: the policy's listing decision, the same one calls are admitted by.
      const items = policy.filter(caller, name, TARGET_KIND[kind], listing.items);
      byServer.set(name, items === listing.items ? listing : { ...listing, items });
      outcomes[name] = listing.error ? { ok: false, error: listing.error } : { ok: true, count: items.length };
      perServer.push({ server: name, items, descriptions: kind === 'tools' ? cfg.toolNameToDescription : undefined });
      naming.set(name, {
        prefix: cfg.alias ?? cfg.name,
        mode: cfg.prefixMode ?? settings.prefixMode,
        displayNames: kind === 'tools' ? cfg.toolNameToDisplayName : undefined,
      });
    });
    let view: View;
    if (kind === 'resources') {
      const uris = buildUriTable(perServer);
      view = { key, items: mergeListing('resources', perServer, uris), uris, listings: byServer, raw, outcomes };
    } else {
      const names = buildListingTable(kind, perServer, naming, { separator: settings.toolPrefixSeparator, maxLength: this.maxNameLength });
      for (const c of names.collisions) {
        this.deps.log.warn(
          { kind, name: c.exposed, servers: c.servers },
          `${kind} name collision with prefix_mode never: only the first server's is exposed`,
        );
        for (const loser of c.servers.slice(1)) {
          const o = outcomes[loser]!;
          (o.collisions ??= []).push({ name: c.exposed, exposedBy: c.servers[0]! });
        }
      }
      view = { key, items: mergeListing(kind as NamedKind, perServer, names), names, listings: byServer, raw, outcomes };
    }
    this.views.delete(cacheKey);
    this.views.set(cacheKey, view);
    if (this.views.size > MAX_VIEWS) this.views.delete(this.views.keys().next().value!);
    return view;
  }
}
