import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../caller/keys.js';
import { removedServer, type ServerSource } from '../registry/registry.js';
import type { RoutePolicy, RouteScope } from './route.js';

/** Removed server names remembered for their sessions' error message. */
const MAX_REMOVED = 1000;

export type ScopeResult = { ok: true; scope: RouteScope } | { ok: false; status: number; message: string };

/**
 * Which servers a request selects. The path (`/mcp/{a,b}`, `/{a,b}/mcp`) wins; on `/mcp` the
 * `x-mcp-servers` header, then LiteLLM's `x-litellm-mcp-server` header, then `?server=`; nothing
 * selected means every server the caller may use. A name may be a server or an access group.
 *
 * The selection is intersected with what the caller may use, and never widens it: a server the caller
 * may not use is, to it, a server that does not exist (404, listing only the servers it may use).
 */
export class ScopeResolver {
  private groups = new Map<string, string[]>();
  /** Servers removed at runtime (most recent last): their open sessions are told so, not "unknown". */
  private readonly removed = new Set<string>();

  constructor(
    private readonly servers: ServerSource,
    private readonly policy: Pick<RoutePolicy, 'serverVisible'>,
  ) {
    this.index();
    servers.subscribe((e) => {
      this.removed.delete(e.name);
      if (e.type === 'removed') this.removed.add(e.name);
      if (this.removed.size > MAX_REMOVED) this.removed.delete(this.removed.values().next().value!);
      this.index();
    });
  }

  /** Every server name, for the caller given, in definition order. */
  serverNames(caller: Caller): string[] {
    return this.servers.names().filter((n) => this.policy.serverVisible(caller, n));
  }

  resolve(caller: Caller, pathSelector: string | undefined, headers: IncomingHttpHeaders, query: URLSearchParams | undefined): ScopeResult {
    let selector = pathSelector;
    if (selector === undefined) {
      const h = headers['x-mcp-servers'] ?? headers['x-litellm-mcp-server'];
      selector = (Array.isArray(h) ? h.join(',') : h) ?? query?.get('server') ?? undefined;
    }
    const mine = this.serverNames(caller);
    if (selector === undefined) return { ok: true, scope: { servers: mine, aggregate: mine.length !== 1, all: true } };
    const names = selector
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    // `/mcp/,` or `x-mcp-servers: ` selects nothing: an error, never "everything" nor an empty aggregate.
    if (names.length === 0)
      return { ok: false, status: 400, message: `Empty server selection; available servers: ${this.available(caller)}` };
    const picked = new Set<string>();
    const unknown: string[] = [];
    for (const n of names) {
      const members = (this.servers.get(n) ? [n] : this.groups.get(n))?.filter((m) => this.policy.serverVisible(caller, m));
      if (!members?.length) unknown.push(n);
      else for (const m of members) picked.add(m);
    }
    const gone = unknown.find((n) => this.removed.has(n) && this.policy.serverVisible(caller, n));
    if (gone !== undefined) return { ok: false, status: 404, message: removedServer(gone, mine).message };
    if (unknown.length > 0) {
      return {
        ok: false,
        status: 404,
        message: `Unknown MCP server or access group ${unknown.map((u) => JSON.stringify(u)).join(', ')}; available servers: ${this.available(caller)}`,
      };
    }
    // Keep definition order so listings are deterministic whatever order the client named them in.
    const ordered = mine.filter((n) => picked.has(n));
    const aggregate = names.length > 1 || ordered.length !== 1 || !this.servers.get(names[0]!);
    return { ok: true, scope: { servers: ordered, aggregate } };
  }

  /** What this caller may select: its servers, and the access groups that hold at least one of them. */
  available(caller: Caller): string {
    const mine = this.serverNames(caller);
    const groups = [...this.groups].filter(([, members]) => members.some((m) => mine.includes(m))).map(([g]) => g);
    return (mine.join(', ') || '(none)') + (groups.length ? `; access groups: ${groups.join(', ')}` : '');
  }

  private index(): void {
    const groups = new Map<string, string[]>();
    for (const s of this.servers.configs()) {
      for (const g of s.accessGroups) {
        const members = groups.get(g) ?? [];
        members.push(s.name);
        groups.set(g, members);
      }
    }
    this.groups = groups;
  }
}
