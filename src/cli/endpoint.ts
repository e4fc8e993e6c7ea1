/** The variable connect, bridge and doctor read the caller's Toolgate key from (never a command-line argument: shell history keeps those). */
export const KEY_ENV = 'TOOLGATE_API_KEY';
export const DEFAULT_GATEWAY = 'http://127.0.0.1:4000';

/**
 * The MCP endpoint for a gateway address: a bare `http://host:port` becomes `/mcp`, or
 * `/mcp/{server}` with a server; an address that already names a path is used as given.
 */
export function mcpEndpoint(base: string, server?: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(base)} (expected e.g. ${DEFAULT_GATEWAY})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected an http(s) URL, got ${url.protocol}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = server ? `/mcp/${encodeURIComponent(server)}` : '/mcp';
  else if (server) throw new Error('give either --server or a URL with a path, not both');
  return url;
}
