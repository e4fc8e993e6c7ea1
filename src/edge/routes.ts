/**
 * Which MCP route a request path names. Selectors are percent-decoded; a path whose encoding is
 * broken (`/mcp/%zz`, a truncated UTF-8 sequence) is reported as such, so the edge answers 400
 * instead of failing inside decodeURIComponent.
 */
export class BadPathEncoding extends Error {
  constructor(readonly path: string) {
    super('bad percent-encoding in the request path');
    this.name = 'BadPathEncoding';
  }
}

function decode(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadPathEncoding(path);
  }
}

/** `/mcp`, `/mcp/{sel}` or `/{sel}/mcp`: the selector, or undefined for bare `/mcp`; null when not an MCP path. Throws BadPathEncoding. */
export function mcpSelector(path: string): string | undefined | null {
  if (path === '/mcp' || path === '/mcp/') return undefined;
  if (path.startsWith('/mcp/')) {
    const rest = path.slice(5).replace(/\/$/, '');
    return rest.includes('/') ? null : decode(rest, path);
  }
  if (path.endsWith('/mcp') || path.endsWith('/mcp/')) {
    const sel = path.slice(1, path.lastIndexOf('/mcp'));
    return sel && !sel.includes('/') ? decode(sel, path) : null;
  }
  return null;
}

/** Legacy HTTP+SSE paths: `/sse`, `/mcp/sse` (aggregate) and `/mcp/{sel}/sse`, each with `/messages` for POSTs. Throws BadPathEncoding. */
export function legacySsePath(path: string): { selector: string | undefined; kind: 'stream' | 'messages' } | null {
  let p = path.endsWith('/') ? path.slice(0, -1) : path;
  let kind: 'stream' | 'messages' = 'stream';
  if (p.endsWith('/sse/messages') || p.endsWith('/sse/message')) {
    kind = 'messages';
    p = p.slice(0, p.lastIndexOf('/'));
  }
  if (p === '/sse' || p === '/mcp/sse') return { selector: undefined, kind };
  if (p.startsWith('/mcp/') && p.endsWith('/sse')) {
    const sel = p.slice(5, -4);
    return sel && !sel.includes('/') ? { selector: decode(sel, path), kind } : null;
  }
  return null;
}

export const HEALTH_PATHS = new Set(['/health/liveliness', '/health/liveness', '/health/readiness']);
