import type { AuthConfig } from '../../config/types.js';
import { NO_CREDENTIALS, type Credentials } from './types.js';

type StaticAuth = Extract<AuthConfig, { value: string }> | { type: 'none' };

/** The header each LiteLLM static auth_type puts on the wire (same names and schemes as LiteLLM's MCP client). */
export function staticAuthHeaders(auth: StaticAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'api_key':
      return { 'x-api-key': auth.value };
    case 'bearer_token':
      return { authorization: `Bearer ${auth.value}` };
    case 'basic':
      // The config holds `user:password`; encoding here keeps the file readable, as in LiteLLM.
      return { authorization: `Basic ${Buffer.from(auth.value, 'utf8').toString('base64')}` };
    case 'authorization':
      return { authorization: auth.value };
    case 'token':
      return { authorization: `Token ${auth.value}` };
  }
}

/** Credentials that never change: computed once, copied onto every outbound request. */
export function staticCredentials(auth: AuthConfig): Credentials {
  if (auth.type === 'oauth2' || auth.type === 'aws_sigv4') {
    throw new Error(`staticCredentials cannot serve auth_type ${auth.type}; it needs its own provider`);
  }
  const headers = staticAuthHeaders(auth);
  if (Object.keys(headers).length === 0) return NO_CREDENTIALS;
  return {
    apply(req) {
      Object.assign(req.headers, headers);
    },
  };
}
