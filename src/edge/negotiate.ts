import type { IncomingMessage, ServerResponse } from 'node:http';
import { refuse } from './error-catalogue.js';

/** True when the request's Accept header admits `type` (no header, or `*\/*`, admit everything). */
export function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept;
  return accept === undefined || accept.includes(type) || accept.includes('*/*');
}

/**
 * The one Accept check of every MCP route: true when the client accepts at least one of `types`;
 * otherwise answers 406 naming what it must accept.
 */
export function requireAccept(req: IncomingMessage, res: ServerResponse, types: readonly string[]): boolean {
  if (types.some((t) => accepts(req, t))) return true;
  refuse(res, 'notAcceptable', `Not Acceptable: Accept must include ${types.join(' and ')}`);
  return false;
}

/** The one Content-Type check of every MCP POST: JSON only; otherwise answers 415. */
export function requireJsonContentType(req: IncomingMessage, res: ServerResponse): boolean {
  const ctype = req.headers['content-type'] ?? '';
  if (ctype.toLowerCase().startsWith('application/json')) return true;
  refuse(
    res,
    'unsupportedMediaType',
    `Unsupported Media Type: Content-Type must be application/json (got ${JSON.stringify(ctype.slice(0, 60))})`,
  );
  return false;
}
