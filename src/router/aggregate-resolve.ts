import type { Caller } from '../caller/keys.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import { unknownTarget } from '../mcp/target.js';
import type { AggregateCatalog, View } from './aggregate-catalog.js';
import type { ListingProfile } from './catalog.js';
import { resolveUri, type NamedKind, type UriTarget } from './catalog-build.js';
import type { NameTarget } from './names.js';
import { matchesUriTemplate } from './uri-template.js';

/** Who is resolving what: the servers in this request's scope, the client's capabilities and era, the caller. */
export interface Resolving {
  shared: AggregateCatalog;
  servers: readonly string[];
  listing: ListingProfile;
  caller: Caller;
}

const LABEL: Record<NamedKind, 'tool' | 'prompt' | 'template'> = { tools: 'tool', prompts: 'prompt', resourceTemplates: 'template' };

/**
 * The server and upstream name behind an exposed name, looked up exactly in the caller's own view:
 * a name the caller's grants hide is not in it, and is refused exactly as a name nobody lists.
 */
export async function resolveName(r: Resolving, kind: NamedKind, name: string): Promise<NameTarget> {
  let view = await r.shared.routingView(kind, r.servers, r.listing, r.caller);
  let target = view.names!.exposed.get(name);
  if (!target) {
    // Perhaps new since we last listed: one fresh look before refusing.
    view = await r.shared.view(kind, r.servers, r.listing, r.caller);
    target = view.names!.exposed.get(name);
  }
  if (target) return target;
  if (kind === 'tools') explainFiltered(r, name, view);
  const down = Object.entries(view.outcomes).filter(([, o]) => !o.ok);
  throw unknownTarget(
    LABEL[kind],
    name,
    down.length
      ? `; unavailable servers: ${down.map(([s, o]) => `${s} (${o.error})`).join(', ')}`
      : `; list ${kind} to see what this endpoint offers`,
  );
}

/** A tool hidden by the server's own allowed_tools/disallowed_tools is refused with the reason (the policy's), not as unknown. */
function explainFiltered(r: Resolving, name: string, view: View): void {
  for (const [server, listing] of view.raw) {
    const refusal = r.shared.deps.policy.explainHidden(server, name, listing.items);
    if (refusal) throw refusal;
  }
}

/** The server behind an exposed URI: listed resources first, then templates, then one fresh listing. */
export async function resolveResource(r: Resolving, uri: string): Promise<UriTarget> {
  const listed = await r.shared.routingView('resources', r.servers, r.listing, r.caller);
  const hit = resolveUri(listed.uris!, uri);
  if (hit) return hit;
  const templated = await templateServer(r, (t) => matchesUriTemplate(t, uri));
  if (templated) return { server: templated, uri };
  const fresh = await r.shared.view('resources', r.servers, r.listing, r.caller);
  const again = resolveUri(fresh.uris!, uri);
  if (again) return again;
  const withResources = [...listed.listings.entries()].filter(([, l]) => l.items.length > 0 || !l.error).map(([s]) => s);
  if (withResources.length === 1) return { server: withResources[0]!, uri };
  // SEP-2164: the -32602 for an unknown resource carries the URI in data.
  throw new McpError(ErrorCode.InvalidParams, `Unknown resource "${uri}": no server in scope lists it or a template matching it`, { uri });
}

/** The first server in scope (as this caller sees it) listing a template that `matches`. */
export async function templateServer(r: Resolving, matches: (uriTemplate: string) => boolean): Promise<string | undefined> {
  const templates = await r.shared.routingView('resourceTemplates', r.servers, r.listing, r.caller);
  for (const [server, listing] of templates.listings) {
    if (listing.items.some((t) => typeof t.uriTemplate === 'string' && matches(t.uriTemplate))) return server;
  }
  return undefined;
}
