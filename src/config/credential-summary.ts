import { maskSecret, redactUrl } from './mask.js';
import type { AuthConfig, ServerConfig } from './types.js';

/** The header an auth type puts on upstream requests, its value masked: what a 401 or 403 is about. */
export function sentCredential(auth: AuthConfig): string {
  switch (auth.type) {
    case 'none':
      return 'no credential';
    case 'api_key':
      return `x-api-key: ${maskSecret(auth.value)}`;
    case 'bearer_token':
    case 'token':
      return `Authorization: Bearer ${maskSecret(auth.value)}`;
    case 'basic':
      return `Authorization: Basic ${maskSecret(auth.value)}`;
    case 'authorization':
      return `Authorization: ${maskSecret(auth.value)}`;
    case 'oauth2':
      return `Authorization: Bearer <token from ${auth.tokenUrl ? redactUrl(auth.tokenUrl) : 'the discovered token endpoint'} for client ${maskSecret(auth.clientId)}>`;
    case 'aws_sigv4':
      return `Authorization: AWS4-HMAC-SHA256 (SigV4, region ${auth.region}, service ${auth.service})`;
  }
}

/** Where a server is reached, without credentials: its redacted URL, or the stdio command. */
export function serverTarget(s: ServerConfig): string {
  return s.transport === 'stdio' ? `stdio: ${s.command ?? ''}` : redactUrl(s.url ?? '');
}
