import type { ServerConfig } from '../../config/types.js';
import type { Credentials } from './types.js';

/**
 * Adds the server's `static_headers` to every request, then lets the auth provider write its headers.
 * On a name clash the auth_type header wins: a static `authorization` left over from testing must not
 * silently replace the credential the operator configured with auth_type (and, for SigV4, the signature
 * must be computed last, over the final headers).
 */
export function staticHeadersCredentials(cfg: ServerConfig, inner: Credentials): Credentials {
  const entries = Object.entries(cfg.staticHeaders).map(([name, value]) => [name.toLowerCase(), value] as const);
  if (entries.length === 0) return inner;
  const wrapped: Credentials = {
    apply(req) {
      for (const [name, value] of entries) req.headers[name] = value;
      return inner.apply(req);
    },
  };
  if (inner.refresh) wrapped.refresh = inner.refresh.bind(inner);
  return wrapped;
}
