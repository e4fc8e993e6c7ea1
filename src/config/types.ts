/**
 * The normalized configuration the rest of the gateway consumes.
 * `config/load.ts` turns a LiteLLM-style config.yaml into this shape; nothing downstream reads YAML.
 */
import type { StoredServerSettings } from './stored-settings.js';

export type UpstreamTransportKind = 'http' | 'sse' | 'stdio';
export type PrefixMode = 'always' | 'conditional' | 'never';

export type StaticAuthType = 'api_key' | 'bearer_token' | 'basic' | 'authorization' | 'token';

export type AuthConfig =
  | { type: 'none' }
  | { type: StaticAuthType; value: string }
  | {
      type: 'oauth2';
      flow: 'client_credentials';
      clientId: string;
      clientSecret: string;
      /** Absent: discovered from the upstream's protected-resource and authorization-server metadata. */
      tokenUrl?: string;
      scopes: string[];
      audience?: string;
      tokenEndpointAuthMethod: 'client_secret_post' | 'client_secret_basic';
    }
  | {
      type: 'aws_sigv4';
      region: string;
      service: string;
      accessKeyId?: string;
      secretAccessKey?: string;
      sessionToken?: string;
      roleName?: string;
      sessionName?: string;
    };

export interface ServerConfig {
  /** The key under `mcp_servers`; used in URLs (`/mcp/{name}`) and as the default name prefix. */
  name: string;
  alias?: string;
  description?: string;
  transport: UpstreamTransportKind;
  url?: string;
  command?: string;
  /** Where a stdio child starts: the server's `cwd`, relative to the config file's folder, else that folder. */
  cwd?: string;
  args: string[];
  /** Environment for a stdio child, `os.environ/` references already resolved. */
  env: Record<string, string>;
  auth: AuthConfig;
  /** Per-request timeout towards this upstream, in milliseconds (config: `timeout`, seconds). */
  timeoutMs: number;
  accessGroups: string[];
  /** LiteLLM's `allow_all_keys`: every key may use this server, whatever its grants say. */
  allowAllKeys?: boolean;
  allowedTools?: string[];
  disallowedTools?: string[];
  /** LiteLLM's `allowed_params`: per tool (bare or prefixed name), the argument names a call may carry. */
  allowedParams?: Record<string, string[]>;
  /** Client header names copied to this upstream. */
  extraHeaders: string[];
  /** Headers always sent to this upstream (values resolved). */
  staticHeaders: Record<string, string>;
  toolNameToDisplayName: Record<string, string>;
  toolNameToDescription: Record<string, string>;
  prefixMode?: PrefixMode;
  instructions?: string;
  /**
   * 'api': registered through the management API; it connects through the SSRF guard (upstream/egress.ts).
   * Absent for config.yaml servers, which are trusted as written.
   */
  origin?: 'api';
  /** LiteLLM's `mcp_info`: what a call costs (`mcp_server_cost_info`); absent when not configured. */
  mcpInfo?: McpInfo;
  /** LiteLLM's `pinned_tools`: per tool, the description and input schema it must keep (rug-pull protection). */
  pinnedTools?: Record<string, ToolPin>;
  /** `pin_tools: true`: pin the tools as first seen (stored, so a restart keeps them). */
  pinTools?: boolean;
}

/** LiteLLM's `mcp_info.mcp_server_cost_info`: a call's price is the tool's own, else the default, else 0. */
export interface McpInfo {
  costInfo?: { defaultCostPerQuery?: number; toolNameToCostPerQuery: Record<string, number> };
}

/** What a pinned tool must keep: its description and input schema, as first seen or as configured. */
export interface ToolPin {
  description?: string;
  inputSchema?: unknown;
}

/** Where the shared rate-limit counters live (LiteLLM's REDIS_URL, or REDIS_HOST / REDIS_PORT / REDIS_PASSWORD). */
export interface RedisTarget {
  url?: string;
  host?: string;
  port?: number;
  password?: string;
}

/** The limits stage's settings: counters on Redis when one is configured, else in memory. */
export interface RateLimitSettings {
  redis?: RedisTarget;
  /** Refuse limited calls while Redis is down, instead of counting on each replica alone. */
  failClosed: boolean;
  /** Longest a call waits on Redis before it is decided locally (or refused, fail closed). */
  redisTimeoutMs: number;
  /** Prefix of every Redis key. */
  redisPrefix: string;
}

export interface GatewaySettings {
  /** Idle downstream sessions are expired after this long. */
  sessionTtlMs: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Browser origins allowed to call the MCP endpoints (requests without Origin are always allowed). */
  allowedOrigins: string[];
  toolPrefixSeparator: string;
  maxToolNameLength: number;
  prefixMode: PrefixMode;
  /** Budget for one upstream listing during aggregation. */
  listingTimeoutMs: number;
  /** Catalog entries are re-listed after this long even without list_changed. */
  catalogTtlMs: number;
  /** Key for cursors and requestState; generated per process when absent (set it for several replicas). */
  stateSecret?: string;
  /**
   * How long a 2026-07-28 client has to retry an `input_required` that Toolgate bridged from a
   * 2025-era server (the requestState Toolgate mints expires then); after it the waiting upstream
   * request is declined or answered with an error and the upstream call is cancelled.
   */
  requestStateTtlMs: number;
  /**
   * How the other replicas reach this one. A bridged call lives in the process that started it; a
   * retry that reaches another replica is forwarded here (the address travels in the signed state).
   */
  replicaUrl?: string;
  /** At most this many upstream sessions (for stdio: child processes) per server at once. */
  maxSessionsPerUpstream: number;
  /** The largest response body (or single event) accepted from an HTTP upstream. */
  maxUpstreamResponseBytes: number;
  /** Deepest JSON nesting accepted in a request body (deeper: -32600 / -32602 at once, never a stack overflow). */
  maxJsonDepth: number;
  /** Most messages in one JSON-RPC batch. */
  maxBatchSize: number;
  /** Bytes one SSE stream may hold unread by its client before the gateway closes it. */
  streamBufferBytes: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request (headers and body). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long (above a load balancer's usual 60 s). */
  idleTimeoutMs: number;
  /** Open client connections at most. */
  maxConnections: number;
  /** Hosts and CIDRs that API-registered servers may reach although private or loopback (`upstream_allowlist`; absent: none). */
  upstreamAllowlist?: string[];
  /** Background health checks per server, every this often; 0 = off (`health_check_interval_seconds`; absent: 60 s). */
  healthCheckIntervalMs?: number;
  /**
   * The embedded store's directory (`toolgate_settings.data_dir`), as written: relative paths are
   * relative to the config file. Absent: `.toolgate/` beside the config file.
   */
  dataDir?: string;
  /** LiteLLM's `DATABASE_URL` (environment or `environment_variables:`): PostgreSQL instead of the embedded store. */
  databaseUrl?: string;
  /** Spend log rows held while the store is down (`toolgate_settings.spend_log_buffer_rows`); beyond it rows are dropped and counted. */
  spendLogBufferRows?: number;
  /** Rate-limit counters (absent: in memory, defaults). */
  rateLimits?: RateLimitSettings;
}

export const GUARDRAIL_MODES = ['pre_mcp_call', 'during_mcp_call', 'post_mcp_call'] as const;
export type GuardrailMode = (typeof GUARDRAIL_MODES)[number];
export type GuardrailAction = 'block' | 'mask';

/** One detection rule of a built-in guardrail: a prebuilt detector, a regex, or a keyword. */
export type GuardrailRule =
  | { type: 'prebuilt'; name: string; action: GuardrailAction }
  | { type: 'regex'; name: string; pattern: string; action: GuardrailAction }
  | { type: 'keyword'; name: string; keyword: string; action: GuardrailAction };

/** One `guardrails:` entry, normalized: built-in detectors (rules) or a webhook. */
export interface GuardrailConfig {
  name: string;
  /** LiteLLM's `guardrail` value, as written (toolgate_secrets, toolgate_pii, toolgate_regex, litellm_content_filter, generic_guardrail_api). */
  provider: string;
  modes: GuardrailMode[];
  /** Applies to every caller, not only keys and teams that name it. */
  defaultOn: boolean;
  rules: GuardrailRule[];
  webhook?: {
    url: string;
    apiKey?: string;
    headers: Record<string, string>;
    timeoutMs: number;
    /** On an unreachable webhook, a timeout or a bad answer: let the call through (true) or block it. */
    failOpen: boolean;
  };
}

/** How grants combine (general_settings.require_key_mcp_access_defined, toolgate_settings.default_mcp_access). */
export interface AccessSettings {
  /** A key without its own server list gets none (its team's list is then only a ceiling). */
  requireKeyMcpAccessDefined: boolean;
  /** `deny`: a caller with no list anywhere gets no server (LiteLLM's default, `allow`, gives every server). */
  defaultMcpAccess: 'allow' | 'deny';
}

export interface GatewayConfig {
  /** Absolute path of the file this came from (for messages). */
  file: string;
  masterKey?: string;
  /** In config order. */
  servers: ServerConfig[];
  settings: GatewaySettings;
  access: AccessSettings;
  /** Servers registered through the management API (store_model_in_db). */
  storedServers: StoredServerSettings;
  /** The top-level `guardrails:` list (LiteLLM's shape), in config order. */
  guardrails?: GuardrailConfig[];
  /** Non-fatal findings (unknown keys, ...), printed at start. */
  warnings: string[];
}
