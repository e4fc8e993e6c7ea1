import type { IncomingHttpHeaders } from 'node:http';

/**
 * Client headers that reach upstream servers: LiteLLM's per-request `x-mcp-{server}-{header}` and a
 * server's `extra_headers` list. Header names come out lower-case, as `Credentials.apply` expects.
 */

const PREFIX = 'x-mcp-';

/** LiteLLM's SpecialHeaders: they steer the gateway and are never per-server credentials. */
const RESERVED = new Set(['x-mcp-servers', 'x-mcp-access-groups', 'x-mcp-auth', 'x-mcp-toolset-id']);

/**
 * Hop-by-hop headers belong to one connection, and the MCP wire headers belong to the upstream
 * transport (its own session, era and framing); copying a client's value would break that exchange.
 */
const NOT_FORWARDABLE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
  'content-type',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'mcp-method',
  'mcp-name',
  // The gateway's own key: never sent upstream under any name.
  'x-litellm-api-key',
]);

/** How LiteLLM normalizes a server name or alias before comparing it with the header's server part. */
export function perRequestServerKey(nameOrAlias: string): string {
  return nameOrAlias.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Splits the client's `x-mcp-{server}-{header}` headers by upstream server name.
 * Only servers that received at least one header appear in the map.
 */
export function perRequestHeaders(
  incoming: IncomingHttpHeaders,
  servers: ReadonlyArray<{ name: string; alias?: string }>,
): Map<string, Record<string, string>> {
  const byKey = new Map<string, string[]>();
  for (const server of servers) {
    const keys = new Set([perRequestServerKey(server.name)]);
    if (server.alias) keys.add(perRequestServerKey(server.alias));
    for (const key of keys) byKey.set(key, [...(byKey.get(key) ?? []), server.name]);
  }

  const result = new Map<string, Record<string, string>>();
  for (const [rawName, rawValue] of Object.entries(incoming)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith(PREFIX) || RESERVED.has(name)) continue;
    const rest = name.slice(PREFIX.length);
    const dash = rest.indexOf('-');
    if (dash <= 0 || dash === rest.length - 1) continue;
    const target = rest.slice(dash + 1);
    if (NOT_FORWARDABLE.has(target)) continue;
    const value = headerValue(rawValue);
    if (value === undefined) continue;
    for (const serverName of byKey.get(rest.slice(0, dash)) ?? []) {
      const headers = result.get(serverName) ?? {};
      headers[target] = value;
      result.set(serverName, headers);
    }
  }
  return result;
}

/**
 * Copies a server's `extra_headers` from the client request. `authorization` is the gateway's own
 * credential here; a client that means it for the upstream says so with `x-mcp-{server}-authorization`.
 */
export function extraHeadersFor(incoming: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const byName = new Map(Object.entries(incoming).map(([name, value]) => [name.toLowerCase(), value]));
  const out: Record<string, string> = {};
  for (const listed of names) {
    const name = listed.toLowerCase();
    if (name === 'authorization' || NOT_FORWARDABLE.has(name)) continue;
    const value = headerValue(byName.get(name));
    if (value !== undefined) out[name] = value;
  }
  return out;
}
