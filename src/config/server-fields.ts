import { z } from 'zod';
import { normalizeTransport } from './transport-checks.js';
import { positiveSeconds, resolvable, scalarText, text, textList, textMap, type Env } from './fields.js';

export const TRANSPORTS = ['http', 'sse', 'stdio'] as const;
export const PREFIX_MODES = ['always', 'conditional', 'never'] as const;
export const STATIC_AUTH_TYPES = ['api_key', 'bearer_token', 'basic', 'authorization', 'token'] as const;
export const AUTH_TYPES = ['none', ...STATIC_AUTH_TYPES, 'oauth2', 'aws_sigv4'] as const;
/** Valid in LiteLLM, refused here with a clear message instead of being mistaken for a typo. */
export const LITELLM_ONLY_AUTH_TYPES = ['oauth2_token_exchange', 'oauth2_id_jag', 'true_passthrough', 'oauth_delegate'];
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic'] as const;

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'is not a valid HTTP header name');

const price = z.number({ error: 'expected a price (a number, e.g. 0.01)' }).min(0, 'must be 0 or more');

/** LiteLLM's `mcp_info`: only `mcp_server_cost_info` is read; its other keys (descriptions, logos) pass. */
const mcpInfo = z
  .looseObject({
    mcp_server_cost_info: z.strictObject({
      default_cost_per_query: price.optional(),
      tool_name_to_cost_per_query: z.record(z.string(), price).optional(),
    }),
  })
  .partial();

/** Every `mcp_servers.<name>` key Toolgate reads, with its type. Cross-field rules live in servers.ts. */
export function serverFields(env: Env) {
  const secret = resolvable(env);
  return {
    url: secret,
    transport: z.preprocess(normalizeTransport, z.enum(TRANSPORTS)),
    command: secret,
    args: z.array(z.union([z.string(), z.number()], { error: 'expected a string' }).transform(String)),
    env: z.record(z.string(), scalarText(env)),
    auth_type: text,
    auth_value: secret,
    authentication_token: secret,
    description: text,
    alias: text,
    instructions: text,
    cwd: text,
    timeout: positiveSeconds,
    access_groups: textList,
    allow_all_keys: z.boolean({ error: 'expected true or false' }),
    allowed_tools: textList,
    disallowed_tools: textList,
    allowed_params: z.record(z.string(), textList),
    extra_headers: z.array(headerName),
    static_headers: z.record(headerName, scalarText(env).pipe(z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks'))),
    tool_name_to_display_name: textMap,
    tool_name_to_description: textMap,
    prefix_mode: z.enum(PREFIX_MODES),
    oauth2_flow: text,
    client_id: secret,
    client_secret: secret,
    token_url: secret,
    scopes: z.union([textList, z.string()], { error: 'expected a list of scopes or a space-separated string' }),
    audience: secret,
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
    aws_region_name: secret,
    aws_service_name: secret,
    aws_access_key_id: secret,
    aws_secret_access_key: secret,
    aws_session_token: secret,
    aws_role_name: secret,
    aws_session_name: secret,
    mcp_info: mcpInfo,
    pin_tools: z.boolean({ error: 'expected true or false' }),
    pinned_tools: z.record(
      z.string(),
      z.object(
        { description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()).optional() },
        { error: 'expected {description, input_schema}' },
      ),
    ),
  };
}

export type ServerFields = ReturnType<typeof serverFields>;

/** LiteLLM `mcp_servers` keys Toolgate does not act on (yet); accepted without a warning. */
const LITELLM_SERVER_KEYS = new Set([
  'server_id',
  'server_name',
  'spec_path',
  'spec_version',
  'authorization_url',
  'registration_url',
  'issuer',
  'token_validation',
  'token_storage_ttl_seconds',
  'token_exchange_endpoint',
  'subject_token_type',
  'token_exchange_profile',
  'upstream_token_header',
  'upstream_resource',
  'client_assertion_signing_alg',
  'delegate_auth_to_upstream',
  'oauth_passthrough',
  'oauth_identity_binding',
  'dcr_bridge',
  'available_on_public_internet',
  'env_vars',
  'header_variables',
  'allow_sampling',
  'allow_elicitation',
  'max_concurrent_requests',
  'is_byok',
  'byok_description',
  'byok_api_key_help_url',
  'logo_url',
]);

export function isLitellmServerKey(key: string): boolean {
  return LITELLM_SERVER_KEYS.has(key) || key.startsWith('client_private_key') || key.startsWith('id_jag_');
}
