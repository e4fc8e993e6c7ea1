/**
 * Merges per-server listings into the aggregate catalog: exposed names for tools, prompts and
 * resource templates, exposed URIs for resources, and the tables that route them back.
 *
 * Items are relayed as raw JSON: each is shallow-copied and only its routing field (`name`, or
 * `uri` when disambiguated) and a configured description are overwritten, so fields this code does
 * not know about pass through untouched.
 */
import type { PrefixMode } from '../config/types.js';
import { buildNameTable, type NameEntry, type NameTable, type NameTableOptions } from './names.js';

export type ListingKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
export type NamedKind = Exclude<ListingKind, 'resources'>;

/** One server's complete listing of one kind, in config order of servers. */
export interface ServerListing {
  server: string;
  items: Record<string, unknown>[];
  /** `tool_name_to_description`, keyed by the upstream name; only used for tools. */
  descriptions?: Record<string, string>;
}

/** How one server's names are exposed. */
export interface ServerNaming {
  /** The server's alias, or its name. */
  prefix: string;
  mode: PrefixMode;
  /** `tool_name_to_display_name`, keyed by the upstream name; only used for tools. */
  displayNames?: Record<string, string>;
}

export interface UriTarget {
  server: string;
  /** The URI as the upstream listed it. */
  uri: string;
}

export interface UriTable {
  /** Exposed URI -> server and original URI. */
  exposed: Map<string, UriTarget>;
  /** Server -> original URI -> exposed URI. Has an entry for every server given, even with no resources. */
  byServer: Map<string, Map<string, string>>;
}

const URI_SCHEME = 'toolgate://';

/**
 * The name-table entries for one kind of listing. Items without a string `name` cannot be routed
 * and are skipped. Servers missing from `naming` are skipped too (they are not in scope).
 */
export function nameEntries(kind: NamedKind, perServer: readonly ServerListing[], naming: ReadonlyMap<string, ServerNaming>): NameEntry[] {
  const entries: NameEntry[] = [];
  for (const { server, items } of perServer) {
    const n = naming.get(server);
    if (!n) continue;
    for (const item of items) {
      if (typeof item.name !== 'string') continue;
      const entry: NameEntry = { server, prefix: n.prefix, name: item.name, mode: n.mode };
      if (kind === 'tools' && n.displayNames && Object.hasOwn(n.displayNames, item.name)) entry.display = n.displayNames[item.name];
      entries.push(entry);
    }
  }
  return entries;
}

/** Shorthand for `buildNameTable(nameEntries(...))`: the routing table for tools, prompts or templates. */
export function buildListingTable(
  kind: NamedKind,
  perServer: readonly ServerListing[],
  naming: ReadonlyMap<string, ServerNaming>,
  opts: NameTableOptions,
): NameTable {
  return buildNameTable(nameEntries(kind, perServer, naming), opts);
}

/**
 * The disambiguated form of a URI that several servers list:
 * `toolgate://{encodeURIComponent(server)}/{encodeURIComponent(uri)}`. Both parts are encoded, so
 * neither can contain the `/` between them and the form parses back without guessing.
 */
export function disambiguatedUri(server: string, uri: string): string {
  return `${URI_SCHEME}${encodeURIComponent(server)}/${encodeURIComponent(uri)}`;
}

/**
 * The routing table for resources. A URI listed by exactly one server is exposed unchanged; a URI
 * listed by two or more servers is exposed by each of them in its disambiguated form, so neither
 * shadows the other and clients of the one-server case see the upstream's URIs verbatim.
 */
export function buildUriTable(perServer: readonly ServerListing[]): UriTable {
  const claims = new Map<string, Set<string>>();
  const pairs: UriTarget[] = [];
  const table: UriTable = { exposed: new Map(), byServer: new Map() };
  for (const { server, items } of perServer) {
    if (!table.byServer.has(server)) table.byServer.set(server, new Map());
    for (const item of items) {
      if (typeof item.uri !== 'string') continue;
      const owners = claims.get(item.uri) ?? new Set<string>();
      if (!owners.has(server)) pairs.push({ server, uri: item.uri });
      owners.add(server);
      claims.set(item.uri, owners);
    }
  }
  const shared = (t: UriTarget) => (claims.get(t.uri)?.size ?? 0) > 1;
  const add = (t: UriTarget, exposed: string) => {
    table.exposed.set(exposed, t);
    table.byServer.get(t.server)!.set(t.uri, exposed);
  };
  // Disambiguated forms first: an upstream that literally lists a `toolgate://` URI equal to one of
  // them is then disambiguated itself rather than taking that form's place.
  for (const t of pairs) if (shared(t)) add(t, disambiguatedUri(t.server, t.uri));
  for (const t of pairs) if (!shared(t)) add(t, table.exposed.has(t.uri) ? disambiguatedUri(t.server, t.uri) : t.uri);
  return table;
}

/**
 * Where an exposed URI goes: an exact lookup in the table, or, for URIs not listed (read from a
 * template, or listed since the catalog was built), the parsed disambiguated form of a server in
 * the table. Anything else is undefined; the caller then routes by templates or refuses.
 */
export function resolveUri(table: UriTable, exposedUri: string): UriTarget | undefined {
  const listed = table.exposed.get(exposedUri);
  if (listed) return listed;
  if (!exposedUri.startsWith(URI_SCHEME)) return undefined;
  const rest = exposedUri.slice(URI_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || rest.indexOf('/', slash + 1) >= 0) return undefined;
  try {
    const server = decodeURIComponent(rest.slice(0, slash));
    const uri = decodeURIComponent(rest.slice(slash + 1));
    return table.byServer.has(server) && uri !== '' ? { server, uri } : undefined;
  } catch {
    return undefined; // malformed percent-encoding
  }
}

/**
 * One merged listing in a deterministic order (servers as given, then each server's own order),
 * with routing fields rewritten. Items the table does not expose (filtered out before, or left out
 * by a `never`-mode collision) and items without a routing field are omitted.
 */
export function mergeListing(kind: 'resources', perServer: readonly ServerListing[], table: UriTable): Record<string, unknown>[];
export function mergeListing(kind: NamedKind, perServer: readonly ServerListing[], table: NameTable): Record<string, unknown>[];
export function mergeListing(
  kind: ListingKind,
  perServer: readonly ServerListing[],
  table: NameTable | UriTable,
): Record<string, unknown>[] {
  const field = kind === 'resources' ? 'uri' : 'name';
  const merged: Record<string, unknown>[] = [];
  for (const { server, items, descriptions } of perServer) {
    const routes = table.byServer.get(server);
    if (!routes) continue;
    const seen = new Set<string>();
    for (const item of items) {
      const original = item[field];
      if (typeof original !== 'string' || seen.has(original)) continue;
      const exposed = routes.get(original);
      if (exposed === undefined) continue;
      seen.add(original);
      const copy: Record<string, unknown> = { ...item, [field]: exposed };
      if (kind === 'tools' && descriptions && Object.hasOwn(descriptions, original)) copy.description = descriptions[original];
      merged.push(copy);
    }
  }
  return merged;
}
