import type { ServerConfig } from '../../src/config/types.js';
import type { RegistryListener, ServerSource } from '../../src/registry/registry.js';
import type { Upstream } from '../../src/upstream/upstream.js';

/** A server definition with every required field, for policy tests that never connect to it. */
export function server(name: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name,
    transport: 'http',
    url: 'http://127.0.0.1:9/mcp',
    args: [],
    env: {},
    auth: { type: 'none' },
    timeoutMs: 1000,
    accessGroups: [],
    extraHeaders: [],
    staticHeaders: {},
    toolNameToDisplayName: {},
    toolNameToDescription: {},
    ...extra,
  };
}

/** A server source with configs only: the policy stage reads definitions, never Upstreams' traffic. */
export function source(configs: ServerConfig[]): ServerSource & { emit: RegistryListener } {
  const listeners = new Set<RegistryListener>();
  const byName = new Map(configs.map((c) => [c.name, { config: c, name: c.name } as unknown as Upstream]));
  return {
    get: (n) => byName.get(n),
    names: () => [...byName.keys()],
    configs: () => [...byName.values()].map((u) => u.config),
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    emit: (e) => {
      if (e.type === 'removed') byName.delete(e.name);
      else byName.set(e.name, e.upstream);
      for (const l of listeners) l(e);
    },
  };
}
