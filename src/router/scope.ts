import type { IncomingHttpHeaders } from 'node:http';
import type { ServerConfig } from '../config/types.js';
import type { RouteScope } from './route.js';

export type ScopeResult = { ok: true; scope: RouteScope } | { ok: false; status: number; message: string };

/**
 * Which servers a request selects. The path (`/mcp/{a,b}`, `/{a,b}/mcp`) wins; on `/mcp` the
 * `x-mcp-servers` header, then LiteLLM's `x-litellm-mcp-server` header, then `?server=`; nothing
 * selected means every server. A name may be a server or an access group. Selection only narrows
 * what the caller may use: an unknown name is an error that lists what exists, never a widening.
 */
export class ScopeResolver {
  private readonly byName = new Map<string, ServerConfig>();
  private readonly groups = new Map<string, string[]>();
  private readonly all: string[];

  constructor(servers: ServerConfig[]) {
    for (const s of servers) {
      this.byName.set(s.name, s);
      for (const g of s.accessGroups) {
        const members = this.groups.get(g) ?? [];
        members.push(s.name);
        this.groups.set(g, members);
      }
    }
    this.all = servers.map((s) => s.name);
  }

  get serverNames(): string[] {
    return this.all;
  }

  resolve(pathSelector: string | undefined, headers: IncomingHttpHeaders, query: URLSearchParams | undefined): ScopeResult {
    let selector = pathSelector;
    if (selector === undefined) {
      const h = headers['x-mcp-servers'] ?? headers['x-litellm-mcp-server'];
      selector = (Array.isArray(h) ? h.join(',') : h) ?? query?.get('server') ?? undefined;
    }
    if (selector === undefined) return { ok: true, scope: { servers: this.all, aggregate: this.all.length !== 1 } };
    const names = selector
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    // `/mcp/,` or `x-mcp-servers: ` selects nothing: an error, never "everything" nor an empty aggregate.
    if (names.length === 0) return { ok: false, status: 400, message: `Empty server selection; available servers: ${this.available()}` };
    const picked: string[] = [];
    const unknown: string[] = [];
    for (const n of names) {
      const members = this.byName.has(n) ? [n] : this.groups.get(n);
      if (!members) unknown.push(n);
      else for (const m of members) if (!picked.includes(m)) picked.push(m);
    }
    if (unknown.length > 0) {
      return {
        ok: false,
        status: 404,
        message: `Unknown MCP server or access group ${unknown.map((u) => JSON.stringify(u)).join(', ')}; available servers: ${this.available()}`,
      };
    }
    // Keep config order so listings are deterministic whatever order the client named them in.
    const ordered = this.all.filter((n) => picked.includes(n));
    const aggregate = names.length > 1 || ordered.length !== 1 || !this.byName.has(names[0]!);
    return { ok: true, scope: { servers: ordered, aggregate } };
  }

  available(): string {
    const groups = [...this.groups.keys()];
    return this.all.join(', ') + (groups.length ? `; access groups: ${groups.join(', ')}` : '');
  }
}
