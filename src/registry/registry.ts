import type { ServerConfig } from '../config/types.js';
import { isUsableName } from '../config/servers.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import type { Upstream } from '../upstream/upstream.js';

export type RegistryEvent =
  | { type: 'added'; name: string; upstream: Upstream }
  | { type: 'changed'; name: string; upstream: Upstream; previous: Upstream }
  | { type: 'removed'; name: string; previous: Upstream };

export type RegistryListener = (event: RegistryEvent) => void;

/** The servers the request path reads: the registry itself, or a test double with the same reads. */
export interface ServerSource {
  get(name: string): Upstream | undefined;
  /** Server names in definition order (config order, then servers added at runtime). */
  names(): readonly string[];
  configs(): readonly ServerConfig[];
  subscribe(listener: RegistryListener): () => void;
}

/**
 * The one owner of the gateway's Upstreams: config.yaml's servers at start, servers defined at
 * runtime later (the admin API and the store). Everything that depends on the server set (router,
 * catalog, scope, policy, per-request headers, readiness) subscribes here instead of keeping a copy,
 * so a server added, changed or removed is seen by all of them at once.
 *
 * Listeners run synchronously, in subscription order, before a replaced Upstream is closed: when a
 * listener runs, `get(name)` already answers with the new definition.
 */
export class ServerRegistry implements ServerSource {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly listeners = new Set<RegistryListener>();
  private order: string[] = [];
  private closed = false;

  constructor(private readonly create: (config: ServerConfig) => Upstream) {}

  get(name: string): Upstream | undefined {
    return this.upstreams.get(name);
  }

  has(name: string): boolean {
    return this.upstreams.has(name);
  }

  get size(): number {
    return this.upstreams.size;
  }

  names(): readonly string[] {
    return this.order;
  }

  values(): IterableIterator<Upstream> {
    return this.upstreams.values();
  }

  configs(): readonly ServerConfig[] {
    return this.order.map((n) => this.upstreams.get(n)!.config);
  }

  subscribe(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Defines a new server; refused when the name is taken or cannot be used in URLs and tool prefixes. */
  add(config: ServerConfig): Upstream {
    this.check(config.name);
    if (this.upstreams.has(config.name)) {
      throw new Error(`MCP server "${config.name}" already exists; change it instead, or remove it first`);
    }
    const upstream = this.create(config);
    this.upstreams.set(config.name, upstream);
    // A new array: anyone iterating the old order (a listing in flight) keeps a consistent list.
    this.order = [...this.order, config.name];
    this.emit({ type: 'added', name: config.name, upstream });
    return upstream;
  }

  /**
   * Replaces a server's definition with a new Upstream. Sessions holding the old one move to the new
   * one at their next request (the router re-leases); the old one is closed once listeners have run.
   */
  async change(config: ServerConfig): Promise<Upstream> {
    this.check(config.name);
    const previous = this.upstreams.get(config.name);
    if (!previous) throw new Error(`Unknown MCP server "${config.name}"; known servers: ${this.order.join(', ') || '(none)'}`);
    const upstream = this.create(config);
    this.upstreams.set(config.name, upstream);
    this.emit({ type: 'changed', name: config.name, upstream, previous });
    await previous.close();
    return upstream;
  }

  /** Removes a server: it disappears from every listing, and its sessions are told so at their next request. */
  async remove(name: string): Promise<void> {
    const previous = this.upstreams.get(name);
    if (!previous) throw new Error(`Unknown MCP server "${name}"; known servers: ${this.order.join(', ') || '(none)'}`);
    this.upstreams.delete(name);
    this.order = this.order.filter((n) => n !== name);
    this.emit({ type: 'removed', name, previous });
    await previous.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
  }

  private check(name: string): void {
    if (this.closed) throw new Error('the server registry is closed');
    if (!isUsableName(name)) {
      throw new Error(`server name ${JSON.stringify(name)} cannot be used in URLs and tool-name prefixes; use A-Z a-z 0-9 _ . -`);
    }
  }

  private emit(event: RegistryEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** The error a session gets when the server it was using has been removed from the gateway. */
export function removedServer(name: string, available: readonly string[]): McpError {
  return new McpError(
    ErrorCode.InvalidRequest,
    `MCP server "${name}" was removed from this gateway; available servers: ${available.join(', ') || '(none)'}`,
  );
}
