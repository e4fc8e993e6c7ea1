import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from '../caller/keys.js';
import { sentCredential, serverTarget } from '../config/credential-summary.js';
import { maskSecret } from '../config/mask.js';
import type { ServerConfig } from '../config/types.js';

/**
 * LiteLLM's troubleshooting header: with `x-litellm-mcp-debug: true` the response says, masked, how
 * the caller was authenticated and which credential went to each upstream in scope. Nothing here is
 * ever a secret in clear: keys and credentials go through maskSecret.
 */
export function setDebugHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  caller: Caller,
  servers: ServerConfig[],
  perRequest: (server: string) => Record<string, string> | undefined,
): void {
  if (String(req.headers['x-litellm-mcp-debug'] ?? '').toLowerCase() !== 'true') return;
  // Header values must be Latin-1: the mask's ellipsis becomes three dots.
  const set = (name: string, value: string) => res.setHeader(name, value.replace(/…/g, '...'));
  const litellm = req.headers['x-litellm-api-key'];
  const via = typeof litellm === 'string' && litellm ? 'x-litellm-api-key' : 'Authorization: Bearer';
  const presented = (typeof litellm === 'string' && litellm ? litellm : String(req.headers.authorization ?? '')).replace(/^bearer\s+/i, '');
  set('x-mcp-debug-inbound-auth', `${via} ${maskSecret(presented)}`);
  set('x-mcp-debug-auth-resolution', `${caller.isMaster ? 'master key' : 'virtual key'} ${caller.keyId}`);
  const each = (f: (s: ServerConfig) => string) => servers.map((s) => `${s.name}=${f(s)}`).join('; ');
  set('x-mcp-debug-outbound-url', each(serverTarget));
  set(
    'x-mcp-debug-server-auth-type',
    each((s) => s.auth.type),
  );
  set(
    'x-mcp-debug-upstream-credential',
    each((s) => {
      const extra = perRequest(s.name);
      const sent = extra ? Object.entries(extra).map(([k, v]) => `${k}: ${maskSecret(v)} (from the request)`) : [];
      return [s.transport === 'stdio' ? 'stdio (env only)' : sentCredential(s.auth), ...sent].join(', ');
    }),
  );
}
