import type { IncomingHttpHeaders } from 'node:http';
import type { ServerConfig } from '../config/types.js';
import { extraHeadersFor, perRequestHeaders } from '../upstream/credentials/per-request.js';

type HeadersFor = (server: string) => Record<string, string> | undefined;
const NONE: HeadersFor = () => undefined;

/**
 * The per-request upstream headers a client sends: `x-mcp-{server}-{header}` (for that server only)
 * and each server's `extra_headers`. Most requests carry neither, so that case costs one scan of the
 * header names and nothing more.
 */
export function upstreamHeadersResolver(servers: ServerConfig[]): (incoming: IncomingHttpHeaders) => HeadersFor {
  const withExtra = servers.filter((s) => s.extraHeaders.length > 0);
  const names = servers.map((s) => ({ name: s.name, alias: s.alias }));
  return (incoming) => {
    let perServer: Map<string, Record<string, string>> | undefined;
    for (const h in incoming) {
      if (h.startsWith('x-mcp-')) {
        perServer = perRequestHeaders(incoming, names);
        break;
      }
    }
    if (!perServer?.size && withExtra.length === 0) return NONE;
    const cache = new Map<string, Record<string, string> | undefined>();
    return (server) => {
      if (cache.has(server)) return cache.get(server);
      const extra = withExtra.find((s) => s.name === server);
      const fromExtra = extra ? extraHeadersFor(incoming, extra.extraHeaders) : undefined;
      const own = perServer?.get(server);
      // x-mcp-{server}-* wins over a copied header of the same name: it was meant for this server.
      const merged = fromExtra || own ? { ...fromExtra, ...own } : undefined;
      const result = merged && Object.keys(merged).length > 0 ? merged : undefined;
      cache.set(server, result);
      return result;
    };
  };
}
