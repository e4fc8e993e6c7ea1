import type { ServerConfig } from '../config/types.js';
import { redactUrl } from '../config/mask.js';
import { maskForAudit } from './audit.js';

/** What replaces a secret in every answer: the field is named (so a reader knows it is set), its value never. */
export const REDACTED = '***';

const redactValues = (m: Record<string, string>) => Object.fromEntries(Object.keys(m).map((k) => [k, REDACTED]));

/**
 * stdio args as answers and audit rows show them: flag names stay (`--token`, `-y`) so a reader can
 * tell the shape; every value (`--token=…`, positional arguments) is masked, since any may be a secret.
 */
export function maskArgs(args: readonly unknown[]): string[] {
  return args.map((a) => {
    const text = String(a);
    if (/^--[A-Za-z][A-Za-z0-9-]*$/.test(text) || /^-[A-Za-z]$/.test(text)) return text;
    const flag = /^(--[A-Za-z][A-Za-z0-9-]*=)/.exec(text);
    return flag ? `${flag[1]}${REDACTED}` : REDACTED;
  });
}

/** A URL for the audit trail: scheme, host, path and the query's names kept; userinfo and query values masked. */
export function auditUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return REDACTED;
  }
  if (url.username) url.username = REDACTED;
  if (url.password) url.password = REDACTED;
  const names = [...new Set(url.searchParams.keys())];
  url.search = '';
  url.hash = '';
  return url.toString() + (names.length ? `?${names.map((n) => `${encodeURIComponent(n)}=${REDACTED}`).join('&')}` : '');
}

/** The credential fields a server has set, each redacted. */
function credentialsOf(config: ServerConfig): Record<string, string> | null {
  const a = config.auth;
  const set: string[] = [];
  if (a.type === 'oauth2') set.push('client_id', 'client_secret', ...(a.scopes.length ? ['scopes'] : []));
  else if (a.type === 'aws_sigv4')
    set.push(
      'aws_region_name',
      ...(a.accessKeyId ? ['aws_access_key_id', 'aws_secret_access_key'] : []),
      ...(a.sessionToken ? ['aws_session_token'] : []),
    );
  else if (a.type !== 'none') set.push('auth_value');
  return set.length ? Object.fromEntries(set.map((k) => [k, REDACTED])) : null;
}

/**
 * The extra fields (those without a column) a caller that is not an admin sees: the server's public
 * description (`mcp_info`: display name, logo, cost). Everything else there (cwd, token_url,
 * instructions, ...) says how or where the server runs, so it is for admins only, like url and command.
 */
const PUBLIC_EXTRA = ['mcp_info'];

/** Bookkeeping and extra fields of a stored server (mcp_info, pinned_tools, ...), as the API shows them. */
export interface StoredMeta {
  server_id: string;
  row: Record<string, unknown>;
}

/**
 * A server as LiteLLM's `/v1/mcp/server` shows it. Credentials are always redacted, and header and env
 * values, the URL's query and the args' values with them; a caller that is not an admin also loses where the server is and how it runs
 * (url, headers, env, command, args).
 */
export function serverView(config: ServerConfig, stored: StoredMeta | undefined, admin: boolean): Record<string, unknown> {
  const storedExtra = (stored?.row.extra ?? {}) as Record<string, unknown>;
  const extra = admin ? storedExtra : Object.fromEntries(Object.entries(storedExtra).filter(([k]) => PUBLIC_EXTRA.includes(k)));
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null));
  const view: Record<string, unknown> = {
    // Extra fields first, so nothing in them can override a field computed here.
    ...(maskForAudit(extra) as Record<string, unknown>),
    server_id: stored?.server_id ?? config.name,
    server_name: config.name,
    alias: config.alias ?? null,
    description: config.description ?? null,
    transport: config.transport,
    url: config.url === undefined ? null : redactUrl(config.url),
    command: config.command ?? null,
    args: maskArgs(config.args),
    env: redactValues(config.env),
    auth_type: config.auth.type,
    credentials: credentialsOf(config),
    static_headers: redactValues(config.staticHeaders),
    extra_headers: config.extraHeaders,
    mcp_access_groups: config.accessGroups,
    allowed_tools: config.allowedTools ?? null,
    disallowed_tools: config.disallowedTools ?? null,
    allowed_params: config.allowedParams ?? null,
    tool_name_to_display_name: config.toolNameToDisplayName,
    tool_name_to_description: config.toolNameToDescription,
    allow_all_keys: config.allowAllKeys === true,
    timeout: config.timeoutMs / 1000,
    source: stored ? 'db' : 'config',
    created_at: iso(stored?.row.created_at),
    updated_at: iso(stored?.row.updated_at),
    created_by: stored?.row.created_by ?? null,
    updated_by: stored?.row.updated_by ?? null,
  };
  if (!admin) for (const k of ['url', 'command', 'args', 'env', 'static_headers', 'extra_headers', 'credentials']) delete view[k];
  return view;
}
