import { dirname, resolve } from 'node:path';
import { warnTransportMistakes } from './transport-checks.js';
import type { AuthConfig, ServerConfig, UpstreamTransportKind } from './types.js';
import { isMapping, parseFields, warnUnknownKeys, type Env, type ParsedFields } from './fields.js';
import { showValue, type IssueList, type KeyPath } from './issues.js';
import {
  AUTH_TYPES,
  LITELLM_ONLY_AUTH_TYPES,
  STATIC_AUTH_TYPES,
  isLitellmServerKey,
  serverFields,
  type ServerFields,
} from './server-fields.js';

const DEFAULT_TIMEOUT_SECONDS = 60;

/**
 * A server name appears in URLs (`/mcp/{name}`) and as the SEP-986 tool-name prefix. `-` is allowed even
 * though it is the default separator: Toolgate maps names back by exact catalog lookup, not by splitting.
 */
const SERVER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_RULE = '1-64 characters from A-Z a-z 0-9 _ . - (not only dots)';

export function isUsableName(name: string): boolean {
  return SERVER_NAME.test(name) && !/^\.+$/.test(name);
}

function suggestName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return /^\.*$/.test(cleaned) ? 'my_server' : cleaned;
}

type Fields = ParsedFields<ServerFields>;

/** Validates and normalizes one `mcp_servers` entry; undefined when it has errors (all recorded in `issues`). */
export function parseServer(name: string, raw: unknown, env: Env, issues: IssueList): ServerConfig | undefined {
  const at: KeyPath = ['mcp_servers', name];
  const errorsBefore = issues.errors.length;
  if (!isUsableName(name)) {
    issues.error(
      at,
      `server name ${JSON.stringify(name)} cannot be used in URLs and tool-name prefixes; use ${NAME_RULE}, e.g. ${JSON.stringify(suggestName(name))}`,
    );
  }
  if (!isMapping(raw)) {
    issues.error(at, 'expected a mapping with url (http/sse server) or command (stdio server)');
    return undefined;
  }
  const fields = serverFields(env);
  warnUnknownKeys(raw, Object.keys(fields), isLitellmServerKey, at, issues);
  const f = parseFields(fields, raw, at, issues);

  const transport = resolveTransport(f, raw, at, issues);
  const auth = resolveAuth(f, raw, at, issues);
  if (f.alias !== undefined && !isUsableName(f.alias)) {
    issues.error([...at, 'alias'], `${JSON.stringify(f.alias)} cannot be a tool-name prefix; use ${NAME_RULE}`);
  }
  if (issues.errors.length > errorsBefore || !transport || !auth) return undefined;

  return {
    name,
    alias: f.alias,
    description: f.description,
    transport,
    url: transport === 'stdio' ? undefined : f.url,
    command: transport === 'stdio' ? f.command : undefined,
    // Relative paths in args then mean the same thing whatever directory Toolgate was started from.
    ...(transport === 'stdio' ? { cwd: resolve(dirname(issues.file), f.cwd ?? '.') } : {}),
    args: f.args ?? [],
    env: f.env ?? {},
    auth,
    timeoutMs: (f.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    accessGroups: f.access_groups ?? [],
    allowedTools: f.allowed_tools,
    disallowedTools: f.disallowed_tools,
    // Set only when configured: a server without it has the same shape as before the field existed.
    ...(f.allowed_params ? { allowedParams: f.allowed_params } : {}),
    ...(f.allow_all_keys ? { allowAllKeys: true } : {}),
    extraHeaders: (f.extra_headers ?? []).map((h) => h.toLowerCase()),
    staticHeaders: Object.fromEntries(Object.entries(f.static_headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    toolNameToDisplayName: f.tool_name_to_display_name ?? {},
    toolNameToDescription: f.tool_name_to_description ?? {},
    prefixMode: f.prefix_mode,
    instructions: f.instructions,
    ...(f.mcp_info?.mcp_server_cost_info && {
      mcpInfo: {
        costInfo: {
          defaultCostPerQuery: f.mcp_info.mcp_server_cost_info.default_cost_per_query,
          toolNameToCostPerQuery: f.mcp_info.mcp_server_cost_info.tool_name_to_cost_per_query ?? {},
        },
      },
    }),
    ...(f.pinned_tools ? { pinnedTools: toolPins(f.pinned_tools) } : {}),
    ...(f.pin_tools ? { pinTools: true } : {}),
  };
}

/** `pinned_tools` as LiteLLM writes it (`input_schema`), in the MCP spelling the pins compare (`inputSchema`). */
function toolPins(raw: NonNullable<Fields['pinned_tools']>): NonNullable<ServerConfig['pinnedTools']> {
  return Object.fromEntries(Object.entries(raw).map(([tool, p]) => [tool, { description: p.description, inputSchema: p.input_schema }]));
}

/** LiteLLM's YAML default is `http` when a url is given; a bare `command` can only mean stdio. */
function resolveTransport(f: Fields, raw: Record<string, unknown>, at: KeyPath, issues: IssueList): UpstreamTransportKind | undefined {
  const hasUrl = raw.url !== undefined;
  const hasCommand = raw.command !== undefined;
  let transport = f.transport;
  if (transport === undefined) {
    if (raw.transport !== undefined) return undefined;
    if (!hasUrl && !hasCommand) {
      issues.error(at, 'needs url (http or sse server) or command (stdio server); neither is set');
      return undefined;
    }
    if (hasUrl && hasCommand) {
      issues.warn([...at, 'command'], 'ignored because url is set (transport defaults to http); set transport: stdio to run the command');
    }
    transport = hasUrl ? 'http' : 'stdio';
  }
  if (transport === 'stdio') {
    if (!hasCommand) issues.error([...at, 'command'], 'is required when transport is stdio (the program to start, e.g. npx or node)');
    else if (hasUrl) issues.warn([...at, 'url'], 'ignored because transport is stdio');
    return transport;
  }
  if (!hasUrl) {
    issues.error([...at, 'url'], `is required when transport is ${transport} (an http:// or https:// URL)`);
    return transport;
  }
  if (f.url !== undefined) checkHttpUrl(f.url, [...at, 'url'], issues);
  warnTransportMistakes(raw, transport, f.url, at, issues);
  return transport;
}

export function checkHttpUrl(value: string, path: KeyPath, issues: IssueList): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    issues.error(path, `must be an absolute http:// or https:// URL (got ${showValue(path, value)})`);
  }
}

function resolveAuth(f: Fields, raw: Record<string, unknown>, at: KeyPath, issues: IssueList): AuthConfig | undefined {
  const authPath = [...at, 'auth_type'];
  const hasValue = raw.auth_value !== undefined || raw.authentication_token !== undefined;
  if (raw.auth_type === undefined) {
    if (hasValue)
      issues.warn([...at, 'auth_value'], 'is set but auth_type is not, so no credential is sent; add e.g. auth_type: bearer_token');
    return { type: 'none' };
  }
  if (f.auth_type === 'none') {
    if (hasValue) issues.warn([...at, 'auth_value'], 'ignored because auth_type is none');
    return { type: 'none' };
  }
  const type = f.auth_type;
  if (type === undefined) return undefined;
  if ((STATIC_AUTH_TYPES as readonly string[]).includes(type)) {
    const value = f.auth_value ?? f.authentication_token;
    if (!hasValue) {
      issues.error(
        [...at, 'auth_value'],
        `is required when auth_type is ${type} (the credential, or os.environ/NAME to read it from the environment)`,
      );
      return undefined;
    }
    if (value === undefined) return undefined;
    if (/[\r\n\0]/.test(value)) {
      // Typically a trailing newline from `$(cat token-file)`; the HTTP client would refuse the header later, less clearly.
      issues.error(
        [...at, raw.auth_value !== undefined ? 'auth_value' : 'authentication_token'],
        'contains a line break or NUL, which cannot go into an HTTP header (a trailing newline from a file?)',
      );
      return undefined;
    }
    if (type === 'basic' && !value.includes(':')) {
      issues.warn(
        [...at, 'auth_value'],
        'basic auth expects user:password (Toolgate base64-encodes it, as LiteLLM does); the value has no ":"',
      );
    }
    return { type: type as (typeof STATIC_AUTH_TYPES)[number], value };
  }
  if (type === 'oauth2') return oauth2Auth(f, raw, at, issues);
  if (type === 'aws_sigv4') return sigv4Auth(f, raw, at, issues);
  const allowed = `allowed: ${AUTH_TYPES.join(', ')}`;
  if (LITELLM_ONLY_AUTH_TYPES.includes(type)) {
    issues.error(authPath, `${JSON.stringify(type)} is a LiteLLM auth mode Toolgate does not support yet; ${allowed}`);
  } else {
    issues.error(authPath, `got ${JSON.stringify(type)}; ${allowed}`);
  }
  return undefined;
}

function requireField<T>(value: T | undefined, rawValue: unknown, path: KeyPath, why: string, issues: IssueList): T | undefined {
  if (rawValue === undefined) issues.error(path, `is required ${why}`);
  return value;
}

function oauth2Auth(f: Fields, raw: Record<string, unknown>, at: KeyPath, issues: IssueList): AuthConfig | undefined {
  const flowPath = [...at, 'oauth2_flow'];
  if (raw.oauth2_flow === undefined) {
    issues.error(flowPath, 'is required when auth_type is oauth2; allowed: client_credentials');
  } else if (f.oauth2_flow === 'authorization_code') {
    issues.error(
      flowPath,
      'authorization_code (per-user sign-in) comes with user identities in a later Toolgate release; allowed now: client_credentials (machine-to-machine)',
    );
  } else if (f.oauth2_flow !== undefined && f.oauth2_flow !== 'client_credentials') {
    issues.error(flowPath, `got ${JSON.stringify(f.oauth2_flow)}; allowed: client_credentials`);
  }
  const why = 'for oauth2 client_credentials';
  const clientId = requireField(f.client_id, raw.client_id, [...at, 'client_id'], why, issues);
  const clientSecret = requireField(f.client_secret, raw.client_secret, [...at, 'client_secret'], why, issues);
  if (f.token_url !== undefined) checkHttpUrl(f.token_url, [...at, 'token_url'], issues);
  if (f.oauth2_flow !== 'client_credentials' || clientId === undefined || clientSecret === undefined) return undefined;
  const scopes = typeof f.scopes === 'string' ? f.scopes.split(/\s+/).filter(Boolean) : (f.scopes ?? []);
  return {
    type: 'oauth2',
    flow: 'client_credentials',
    clientId,
    clientSecret,
    tokenUrl: f.token_url,
    scopes,
    audience: f.audience,
    tokenEndpointAuthMethod: f.token_endpoint_auth_method ?? 'client_secret_post',
  };
}

function sigv4Auth(f: Fields, raw: Record<string, unknown>, at: KeyPath, issues: IssueList): AuthConfig | undefined {
  const region = requireField(f.aws_region_name, raw.aws_region_name, [...at, 'aws_region_name'], 'for aws_sigv4 (e.g. us-east-1)', issues);
  const hasKeyId = raw.aws_access_key_id !== undefined;
  const hasSecret = raw.aws_secret_access_key !== undefined;
  if (hasKeyId !== hasSecret) {
    const missing = hasKeyId ? 'aws_secret_access_key' : 'aws_access_key_id';
    issues.error(
      [...at, missing],
      'is required together with its pair (aws_access_key_id and aws_secret_access_key); omit both to use the default AWS credential chain',
    );
  }
  if (raw.aws_session_token !== undefined && !hasKeyId) {
    issues.error([...at, 'aws_session_token'], 'needs aws_access_key_id and aws_secret_access_key');
  }
  if (region === undefined) return undefined;
  return {
    type: 'aws_sigv4',
    region,
    service: f.aws_service_name ?? 'bedrock-agentcore',
    accessKeyId: f.aws_access_key_id,
    secretAccessKey: f.aws_secret_access_key,
    sessionToken: f.aws_session_token,
    roleName: f.aws_role_name,
    sessionName: f.aws_session_name,
  };
}
