import { z } from 'zod';
import type { AccessSettings, GatewaySettings, RateLimitSettings, RedisTarget } from './types.js';
import { isMapping, parseFields, positiveSeconds, resolvable, warnUnknownKeys, type Env } from './fields.js';
import type { IssueList } from './issues.js';
import { PREFIX_MODES } from './server-fields.js';
import { parseAllowlist } from '../upstream/egress.js';

const MIB = 1024 * 1024;

/** SEP-986 tool-name characters; a separator outside them would make every prefixed name invalid. */
const SEPARATOR = /^[A-Za-z0-9_.-]{1,8}$/;
const SEPARATOR_RULE = 'must be 1-8 characters from A-Z a-z 0-9 _ . -';

function settingsFields(env: Env) {
  return {
    session_ttl_seconds: positiveSeconds,
    max_body_bytes: z.number().int('must be a whole number of bytes').positive('must be greater than 0'),
    allowed_origins: z.array(z.string()),
    tool_prefix_separator: z.string().regex(SEPARATOR, SEPARATOR_RULE),
    max_tool_name_length: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be between 1 and 128')
      .max(128, 'must be between 1 and 128'),
    prefix_mode: z.enum(PREFIX_MODES),
    listing_timeout_seconds: positiveSeconds,
    catalog_ttl_seconds: z.number().min(0, 'must be 0 or more seconds'),
    state_secret: resolvable(env).pipe(z.string().min(32, 'must be at least 32 characters')),
    request_state_ttl_seconds: positiveSeconds,
    max_sessions_per_upstream: z.number().int('must be a whole number').positive('must be greater than 0'),
    max_upstream_response_bytes: z.number().int('must be a whole number of bytes').positive('must be greater than 0'),
    max_json_depth: z.number().int('must be a whole number').min(8, 'must be at least 8 (MCP messages nest a few levels themselves)'),
    max_batch_size: z.number().int('must be a whole number').positive('must be greater than 0'),
    stream_buffer_bytes: z.number().int('must be a whole number of bytes').min(65_536, 'must be at least 65536 (64 KiB)'),
    header_timeout_seconds: positiveSeconds,
    request_timeout_seconds: positiveSeconds,
    idle_timeout_seconds: positiveSeconds,
    max_connections: z.number().int('must be a whole number').positive('must be greater than 0'),
    default_mcp_access: z.enum(['allow', 'deny'], { error: 'must be allow (every server when no list is set, as LiteLLM) or deny' }),
    replica_url: resolvable(env).pipe(
      z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'must be scheme://host:port, e.g. http://10.0.0.5:4000 (no path)'),
    ),
    data_dir: resolvable(env).pipe(z.string().min(1, 'must name a directory, e.g. .toolgate')),
    spend_log_buffer_rows: z.number().int('must be a whole number').positive('must be greater than 0'),
    upstream_allowlist: z.array(z.string()),
    health_check_interval_seconds: z.number().min(0, 'must be 0 (off) or more seconds'),
    rate_limit_fail_closed: z.boolean({ error: 'expected true or false' }),
    rate_limit_redis_timeout_ms: z.number().int('must be a whole number of ms').positive('must be greater than 0'),
    rate_limit_redis_prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters from A-Z a-z 0-9 _ . : -'),
  };
}

/** `toolgate_settings:` — Toolgate's own section; LiteLLM ignores unknown top-level sections. */
export function parseSettings(raw: unknown, env: Env, issues: IssueList): GatewaySettings {
  const at = ['toolgate_settings'];
  let section: Record<string, unknown> = {};
  if (raw !== undefined && raw !== null) {
    if (isMapping(raw)) section = raw;
    else issues.error(at, 'expected a mapping of settings');
  }
  const fields = settingsFields(env);
  warnUnknownKeys(section, Object.keys(fields), () => false, at, issues);
  const f = parseFields(fields, section, at, issues);

  for (const [i, origin] of (f.allowed_origins ?? []).entries()) {
    if (!isOrigin(origin))
      issues.error(
        [...at, 'allowed_origins', i],
        `${JSON.stringify(origin)} is not an origin; write scheme://host[:port], e.g. https://app.example.com`,
      );
  }

  for (const [i, entry] of (f.upstream_allowlist ?? []).entries()) {
    try {
      parseAllowlist([entry]);
    } catch (err) {
      issues.error([...at, 'upstream_allowlist', i], (err as Error).message);
    }
  }

  return {
    sessionTtlMs: (f.session_ttl_seconds ?? 1800) * 1000,
    maxBodyBytes: f.max_body_bytes ?? 4 * MIB,
    allowedOrigins: f.allowed_origins ?? [],
    toolPrefixSeparator: f.tool_prefix_separator ?? separatorFromEnv(env, issues),
    maxToolNameLength: f.max_tool_name_length ?? 64,
    prefixMode: f.prefix_mode ?? 'always',
    listingTimeoutMs: (f.listing_timeout_seconds ?? 10) * 1000,
    catalogTtlMs: (f.catalog_ttl_seconds ?? 300) * 1000,
    stateSecret: f.state_secret,
    requestStateTtlMs: (f.request_state_ttl_seconds ?? 300) * 1000,
    replicaUrl: f.replica_url,
    maxSessionsPerUpstream: f.max_sessions_per_upstream ?? 100,
    maxUpstreamResponseBytes: f.max_upstream_response_bytes ?? 32 * MIB,
    maxJsonDepth: f.max_json_depth ?? 64,
    maxBatchSize: f.max_batch_size ?? 50,
    streamBufferBytes: f.stream_buffer_bytes ?? 4 * MIB,
    headersTimeoutMs: (f.header_timeout_seconds ?? 10) * 1000,
    requestTimeoutMs: (f.request_timeout_seconds ?? 60) * 1000,
    idleTimeoutMs: (f.idle_timeout_seconds ?? 65) * 1000,
    maxConnections: f.max_connections ?? 4096,
    // Present only when set, so a config without them reads exactly as before.
    ...(f.data_dir !== undefined && { dataDir: f.data_dir }),
    ...(f.spend_log_buffer_rows !== undefined && { spendLogBufferRows: f.spend_log_buffer_rows }),
    ...(f.upstream_allowlist !== undefined && { upstreamAllowlist: f.upstream_allowlist }),
    ...(f.health_check_interval_seconds !== undefined && { healthCheckIntervalMs: f.health_check_interval_seconds * 1000 }),
    ...(env.DATABASE_URL && { databaseUrl: env.DATABASE_URL }),
    ...rateLimits(f, redisFromEnv(env, issues)),
  };
}

/** Present only when Redis or a rate-limit setting is set (absent: counters in memory, defaults). */
function rateLimits(
  f: { rate_limit_fail_closed?: boolean; rate_limit_redis_timeout_ms?: number; rate_limit_redis_prefix?: string },
  redis: RedisTarget | undefined,
): { rateLimits?: RateLimitSettings } {
  const set = redis ?? f.rate_limit_fail_closed ?? f.rate_limit_redis_timeout_ms ?? f.rate_limit_redis_prefix;
  if (set === undefined) return {};
  return {
    rateLimits: {
      ...(redis && { redis }),
      failClosed: f.rate_limit_fail_closed ?? false,
      redisTimeoutMs: f.rate_limit_redis_timeout_ms ?? 50,
      redisPrefix: f.rate_limit_redis_prefix ?? 'toolgate:',
    },
  };
}

/** LiteLLM's variables for its Redis: REDIS_URL, or REDIS_HOST with REDIS_PORT and REDIS_PASSWORD. */
function redisFromEnv(env: Env, issues: IssueList): RedisTarget | undefined {
  if (env.REDIS_URL) {
    if (!/^rediss?:\/\//.test(env.REDIS_URL)) issues.error('environment variable REDIS_URL', 'must start with redis:// or rediss://');
    return { url: env.REDIS_URL };
  }
  if (!env.REDIS_HOST) return undefined;
  const port = env.REDIS_PORT ? Number(env.REDIS_PORT) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    issues.error('environment variable REDIS_PORT', 'must be a port number (1-65535)');
  }
  return { host: env.REDIS_HOST, port, ...(env.REDIS_PASSWORD && { password: env.REDIS_PASSWORD }) };
}

/** LiteLLM's `MCP_TOOL_PREFIX_SEPARATOR` replaces the default; an explicit toolgate_settings value wins over it. */
function separatorFromEnv(env: Env, issues: IssueList): string {
  const value = env.MCP_TOOL_PREFIX_SEPARATOR;
  if (value === undefined || value === '') return '-';
  if (!SEPARATOR.test(value)) {
    issues.error('environment variable MCP_TOOL_PREFIX_SEPARATOR', `${SEPARATOR_RULE} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/**
 * `general_settings.master_key` is where LiteLLM users already keep it. When both are present the config
 * wins over the environment: the file is the explicit, reviewed statement of intent, and LiteLLM itself
 * reads `LITELLM_MASTER_KEY` only when the config has none. `TOOLGATE_MASTER_KEY` is checked before
 * `LITELLM_MASTER_KEY` so a Toolgate-specific value can differ from a co-located LiteLLM's.
 */
export function parseMasterKey(generalSettings: unknown, env: Env, issues: IssueList): string | undefined {
  const at = ['general_settings'];
  let fromConfig: string | undefined;
  if (generalSettings !== undefined && generalSettings !== null) {
    if (!isMapping(generalSettings)) issues.error(at, 'expected a mapping of settings');
    else fromConfig = parseFields({ master_key: resolvable(env) }, generalSettings, at, issues).master_key;
  }
  const key = fromConfig ?? (env.TOOLGATE_MASTER_KEY || undefined) ?? (env.LITELLM_MASTER_KEY || undefined);
  if (key !== undefined && !key.startsWith('sk-')) {
    issues.warn([...at, 'master_key'], 'does not start with "sk-"; LiteLLM refuses such keys, so this config will not work with LiteLLM');
  }
  return key;
}

/** `general_settings.require_key_mcp_access_defined` (LiteLLM) and `toolgate_settings.default_mcp_access` (Toolgate). */
export function parseAccessSettings(generalSettings: unknown, toolgateSettings: unknown, issues: IssueList): AccessSettings {
  const general = isMapping(generalSettings)
    ? parseFields(
        { require_key_mcp_access_defined: z.boolean({ error: 'expected true or false' }) },
        generalSettings,
        ['general_settings'],
        issues,
      )
    : {};
  const toolgate = isMapping(toolgateSettings) ? toolgateSettings.default_mcp_access : undefined;
  return {
    requireKeyMcpAccessDefined: general.require_key_mcp_access_defined ?? false,
    defaultMcpAccess: toolgate === 'deny' ? 'deny' : 'allow',
  };
}
