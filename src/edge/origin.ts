import type { IncomingMessage } from 'node:http';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return (i >= 0 ? hostHeader.slice(0, i) : hostHeader).toLowerCase();
}

/**
 * DNS-rebinding defence. A browser page on evil.example can reach 127.0.0.1 through a rebound DNS
 * name; it then sends `Origin: http://evil.example` (and `Host: evil.example:4000`). Requests without
 * Origin come from non-browser clients and are allowed; a browser Origin must be loopback or listed.
 * When the gateway itself listens on loopback, the Host header must name loopback too.
 */
export function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[], loopbackOnly: boolean): boolean {
  if (loopbackOnly) {
    const host = req.headers.host;
    if (host !== undefined && !LOOPBACK_HOSTS.has(hostnameOf(host))) return false;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin) || allowedOrigins.includes('*')) return true;
  try {
    // URL.hostname keeps IPv6 brackets ("[::1]"), which LOOPBACK_HOSTS lists.
    return LOOPBACK_HOSTS.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false;
  }
}
