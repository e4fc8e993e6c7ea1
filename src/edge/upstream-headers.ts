import type { IncomingHttpHeaders } from 'node:http';
import type { ServerSource } from '../registry/registry.js';
import { extraHeadersFor, perRequestHeaders } from '../upstream/credentials/per-request.js';

type HeadersFor = (server: string) => Record<string, string> | undefined;
const NONE: HeadersFor = () => undefined;

/**
 * The per-request upstream headers a client sends: `x-mcp-{server}-{header}` (for that server only)
 * and each server's `extra_headers`. Most requests carry neither, so that case costs one scan of the
 * header names and nothing more.
 */
export function upstreamHeadersResolver(servers: ServerSource): (incoming: IncomingHttpHeaders) => HeadersFor {
  // Rebuilt when the registry changes, so a server defined at runtime gets its headers too.
  let withExtra = servers.configs().filter((s) => s.extraHeaders.length > 0);
  let names = servers.configs().map((s) => ({ name: s.name, alias: s.alias }));
  servers.subscribe(() => {
    withExtra = servers.configs().filter((s) => s.extraHeaders.length > 0);
    names = servers.configs().map((s) => ({ name: s.name, alias: s.alias }));
  });
  return (incoming) => {
    let perServer: Map<string, Record<string, string>> | undefined;
    let params: Record<string, string> | undefined;
    for (const h in incoming) {
      if (h.startsWith('x-mcp-') && !perServer) perServer = perRequestHeaders(incoming, names);
      // Intermediaries must forward Mcp-Param-* headers (2026-07-28): they mirror tool arguments.
      // The router passes each on only while it still mirrors the arguments the policy let through
      // (router/param-headers.ts): a masked or removed argument's header goes with it.
      else if (h.startsWith('mcp-param-')) {
        const v = incoming[h];
        if (typeof v === 'string') (params ??= {})[h] = v;
      }
    }
    if (!perServer?.size && !params && withExtra.length === 0) return NONE;
    const cache = new Map<string, Record<string, string> | undefined>();
    return (server) => {
      if (cache.has(server)) return cache.get(server);
      const extra = withExtra.find((s) => s.name === server);
      const fromExtra = extra ? extraHeadersFor(incoming, extra.extraHeaders) : undefined;
      const own = perServer?.get(server);
      // x-mcp-{server}-* wins over a copied header of the same name: it was meant for this server.
      const merged = fromExtra || own || params ? { ...params, ...fromExtra, ...own } : undefined;
      const result = merged && Object.keys(merged).length > 0 ? merged : undefined;
      cache.set(server, result);
      return result;
    };
  };
}
