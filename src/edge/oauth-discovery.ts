import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';

/** How to authenticate, in the words every refusal of an OAuth step uses. */
export const KEY_HINT =
  'Toolgate does not use OAuth for its own endpoint: send your Toolgate key as "Authorization: Bearer <key>" or "x-litellm-api-key: <key>" ' +
  '(mcp-remote: --header "Authorization: Bearer ${TOOLGATE_API_KEY}"; or run `toolgate connect <client>` for your client\'s setup)';

const WELL_KNOWN = [
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
];

/**
 * A client that forgot the key gets a 401 and then tries OAuth discovery and dynamic client
 * registration (mcp-remote, the inspector, IDEs). Left to 404 "No route for POST /register", that is
 * all the user sees. Every step answers instead with JSON naming the real fix: the metadata
 * documents are 404 (there is no authorization server to discover, so clients stop or fall back to
 * /register) and /register, /token, /authorize answer with an RFC 6749/7591 error whose description
 * is the fix, which clients print. True when the request was one of these.
 */
export function answerOAuthProbe(res: ServerResponse, path: string): boolean {
  // With and without the resource's path suffix: /.well-known/oauth-protected-resource/mcp/{server}.
  if (WELL_KNOWN.some((p) => path === p || path.startsWith(p + '/'))) {
    sendJson(res, 404, { error: 'oauth_not_supported', error_description: KEY_HINT, message: KEY_HINT });
    return true;
  }
  // LiteLLM's broker paths, `[/{server}]/register`; never /mcp/{name}, which may be a server called "token".
  const step = /^(?:\/(?!mcp\/)[^/]+)?\/(register|token|authorize)\/?$/.exec(path)?.[1];
  if (!step) return false;
  const error = step === 'register' ? 'invalid_client_metadata' : step === 'token' ? 'unsupported_grant_type' : 'unauthorized_client';
  sendJson(res, 400, { error, error_description: KEY_HINT, message: KEY_HINT });
  return true;
}
