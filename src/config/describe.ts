import type { AuthConfig, GatewayConfig, ServerConfig } from './types.js';
import { maskSecret, redactUrl } from './mask.js';

export { maskSecret } from './mask.js';

/** The `toolgate check-config FILE` report: what will run, with every credential masked. */
export function describeConfig(cfg: GatewayConfig): string {
  const lines = [`Config: ${cfg.file}`];
  lines.push(
    `Master key: ${cfg.masterKey === undefined ? 'not set (general_settings.master_key, or env TOOLGATE_MASTER_KEY)' : maskSecret(cfg.masterKey)}`,
  );
  lines.push(`Servers (${cfg.servers.length}):`);
  for (const server of cfg.servers) lines.push(...describeServer(server));
  lines.push('Settings:', ...describeSettings(cfg));
  lines.push(`Warnings (${cfg.warnings.length}):`, ...cfg.warnings.map((w) => `  ${w}`));
  return `${lines.join('\n')}\n`;
}

function describeServer(s: ServerConfig): string[] {
  const out = [`  ${s.name}${s.alias ? ` (alias ${s.alias})` : ''}`];
  const where = s.transport === 'stdio' ? [s.command, ...s.args].join(' ') : redactUrl(s.url ?? '');
  out.push(`    transport: ${s.transport}  ${where}`);
  if (s.cwd) out.push(`    starts in: ${s.cwd}`);
  if (s.description) out.push(`    description: ${s.description}`);
  out.push(`    auth: ${describeAuth(s.auth)}`);
  out.push(`    timeout: ${s.timeoutMs / 1000}s`);
  out.push(`    access groups: ${list(s.accessGroups)}`);
  if (s.allowedTools) out.push(`    allowed tools: ${list(s.allowedTools)}`);
  if (s.disallowedTools) out.push(`    disallowed tools: ${list(s.disallowedTools)}`);
  if (s.extraHeaders.length) out.push(`    forwarded client headers: ${list(s.extraHeaders)}`);
  const statics = maskedMap(s.staticHeaders);
  if (statics) out.push(`    static headers: ${statics}`);
  const env = maskedMap(s.env);
  if (env) out.push(`    env: ${env}`);
  if (s.prefixMode) out.push(`    prefix mode: ${s.prefixMode}`);
  return out;
}

function describeAuth(auth: AuthConfig): string {
  switch (auth.type) {
    case 'none':
      return 'none';
    case 'oauth2':
      return [
        `oauth2 client_credentials, client_id ${maskSecret(auth.clientId)}, client_secret ${maskSecret(auth.clientSecret)}`,
        `token_url ${auth.tokenUrl ? redactUrl(auth.tokenUrl) : '(discovered)'}`,
        `scopes ${list(auth.scopes)}`,
        ...(auth.audience ? [`audience ${auth.audience}`] : []),
        auth.tokenEndpointAuthMethod,
      ].join(', ');
    case 'aws_sigv4':
      return [
        `aws_sigv4 region ${auth.region}, service ${auth.service}`,
        auth.accessKeyId ? `access key ${maskSecret(auth.accessKeyId)}` : 'default AWS credential chain',
        ...(auth.roleName ? [`assumes role ${auth.roleName}`] : []),
      ].join(', ');
    default:
      return `${auth.type} ${maskSecret(auth.value)}`;
  }
}

function describeSettings(cfg: GatewayConfig): string[] {
  const s = cfg.settings;
  return [
    `  session_ttl_seconds: ${s.sessionTtlMs / 1000}`,
    `  max_body_bytes: ${s.maxBodyBytes}`,
    `  max_json_depth: ${s.maxJsonDepth}`,
    `  max_batch_size: ${s.maxBatchSize}`,
    `  stream_buffer_bytes: ${s.streamBufferBytes}`,
    `  header_timeout_seconds: ${s.headersTimeoutMs / 1000}, request_timeout_seconds: ${s.requestTimeoutMs / 1000}, idle_timeout_seconds: ${s.idleTimeoutMs / 1000}`,
    `  max_connections: ${s.maxConnections}`,
    `  allowed_origins: ${list(s.allowedOrigins)}`,
    `  tool_prefix_separator: ${JSON.stringify(s.toolPrefixSeparator)}`,
    `  max_tool_name_length: ${s.maxToolNameLength}`,
    `  prefix_mode: ${s.prefixMode}`,
    `  listing_timeout_seconds: ${s.listingTimeoutMs / 1000}`,
    `  catalog_ttl_seconds: ${s.catalogTtlMs / 1000}`,
    `  request_state_ttl_seconds: ${s.requestStateTtlMs / 1000}`,
    `  replica_url: ${s.replicaUrl ?? 'not set (a bridged retry must reach the replica that started the call)'}`,
    `  state_secret: ${s.stateSecret ? maskSecret(s.stateSecret) : 'generated per process (set it when running several replicas)'}`,
    s.databaseUrl
      ? `  store: PostgreSQL ${redactUrl(s.databaseUrl)} (DATABASE_URL)`
      : `  store: embedded, data_dir ${s.dataDir ?? '.toolgate/ beside the config file'}`,
    `  rate-limit counters: ${describeCounters(s.rateLimits)}`,
  ];
}

function describeCounters(r: GatewayConfig['settings']['rateLimits']): string {
  if (!r?.redis) return 'in memory (set REDIS_URL or REDIS_HOST to share them between replicas)';
  const where = r.redis.url
    ? redactUrl(r.redis.url)
    : `${r.redis.host}:${r.redis.port ?? 6379}${r.redis.password ? ' (with password)' : ''}`;
  return `Redis ${where}, timeout ${r.redisTimeoutMs} ms, ${r.failClosed ? 'fail closed' : 'local fallback when down'}`;
}

function list(items: readonly string[]): string {
  return items.length ? items.join(', ') : '-';
}

function maskedMap(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}=${maskSecret(v)}`)
    .join(', ');
}
