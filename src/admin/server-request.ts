import { randomUUID } from 'node:crypto';
import { isMapping, type Env } from '../config/fields.js';
import { CREDENTIAL_FIELDS, parseRecord, type FieldProblem, type ServerRecord } from '../config/stored-server.js';
import { isUsableName } from '../config/servers.js';
import type { ServerConfig } from '../config/types.js';
import { secretsOf } from '../registry/stored-server-rows.js';
import { SALT_KEY_VARIABLES, type SealedValues } from '../store/sealed-values.js';
import { checkUpstreamUrl, type Allowlist } from '../upstream/egress.js';
import { redactUrl } from '../config/mask.js';
import { AdminError, badRequest } from './http.js';
import { maskArgs, REDACTED } from './server-views.js';
import { stdioProblems } from './server-safety.js';

/** What the write path needs beyond the request: the settings it checks against. */
export interface ServerWriteSettings {
  /** general_settings.store_model_in_db. */
  enabled: boolean;
  /** Absent without a salt key: servers without credentials can still be stored. */
  seal?: SealedValues;
  stdioExtraCommands: readonly string[];
  /** toolgate_settings.upstream_allowlist: private and loopback targets it admits. */
  allowlist: Allowlist;
  /** What `os.environ/` references resolve against: nothing for stored servers (they are refused before). */
  env: Env;
  file: string;
}

export const STORE_SETTING_HINT =
  'servers are stored only with general_settings.store_model_in_db: true (or the environment variable STORE_MODEL_IN_DB=True); config.yaml servers are edited in config.yaml';

export function requireStorage(s: ServerWriteSettings): void {
  if (!s.enabled) throw new AdminError(400, `Storing MCP servers is off: ${STORE_SETTING_HINT}`, 'bad_request_error', 'store_model_in_db');
}

const MAPS = ['env', 'static_headers', 'credentials'] as const;
/** What GET shows beside the definition: a client sending a server back (GET, edit, PUT) may leave them in. */
const VIEW_ONLY = ['source', 'created_at', 'updated_at', 'created_by', 'updated_by', 'status', 'last_health_check', 'health_check_error'];

/**
 * The record a write asks for: the body over the stored record (PUT; a field sent as null is
 * cleared), credential fields gathered under `credentials` wherever they were sent, so none is ever
 * stored outside the sealed column.
 */
export function requestRecord(body: Record<string, unknown>, prior?: ServerRecord): ServerRecord {
  for (const k of ['server_id', 'server_name'] as const) {
    if (body[k] !== undefined && typeof body[k] !== 'string') throw badRequest(k, 'expected a string');
  }
  for (const k of MAPS) if (body[k] !== undefined && body[k] !== null && !isMapping(body[k])) throw badRequest(k, 'expected a JSON object');
  if (isMapping(body.credentials)) {
    const unknown = Object.keys(body.credentials).find((k) => !(CREDENTIAL_FIELDS as readonly string[]).includes(k));
    if (unknown !== undefined)
      throw badRequest(`credentials.${unknown}`, `unknown credential field; known: ${CREDENTIAL_FIELDS.join(', ')}`);
  }
  const out: Record<string, unknown> = { ...(prior ?? {}) };
  for (const [k, v] of Object.entries(body)) {
    if (VIEW_ONLY.includes(k)) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  const credentials: Record<string, unknown> = { ...(isMapping(out.credentials) ? out.credentials : {}) };
  for (const k of CREDENTIAL_FIELDS) {
    if (body[k] === undefined) continue;
    if (body[k] !== null) credentials[k] = body[k];
    delete out[k];
  }
  for (const k of CREDENTIAL_FIELDS) delete out[k];
  keepRedacted(out, credentials, prior);
  if (Object.keys(credentials).length) out.credentials = credentials;
  else delete out.credentials;
  if (out.server_name === undefined)
    throw badRequest('server_name', 'is required (the name used in /mcp/{server_name} and as the tool prefix)');
  out.server_id ??= randomUUID();
  if (!isUsableName(String(out.server_id)))
    throw badRequest('server_id', 'use 1-64 characters from A-Z a-z 0-9 _ . - (or leave it out for a generated id)');
  return out as ServerRecord;
}

/**
 * A server sent back as GET showed it carries `***` for its secrets, a redacted URL and masked args: those mean
 * "unchanged", never the new value (which would replace a credential with three asterisks).
 */
function keepRedacted(out: Record<string, unknown>, credentials: Record<string, unknown>, prior: ServerRecord | undefined): void {
  const before = (prior?.credentials ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(credentials)) if (v === REDACTED) credentials[k] = before[k];
  for (const k of ['env', 'static_headers'] as const) {
    const map = out[k];
    if (!isMapping(map)) continue;
    const was = (prior?.[k] ?? {}) as Record<string, string>;
    out[k] = Object.fromEntries(Object.entries(map).flatMap(([n, v]) => (v !== REDACTED ? [[n, v]] : n in was ? [[n, was[n]]] : [])));
  }
  if (typeof prior?.url === 'string' && out.url !== prior.url && out.url === redactUrl(prior.url)) out.url = prior.url;
  if (Array.isArray(prior?.args) && Array.isArray(out.args) && JSON.stringify(out.args) === JSON.stringify(maskArgs(prior.args)))
    out.args = prior.args;
}

/** The request path of the first `os.environ/` string anywhere in the record, if any. */
function envReference(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.startsWith('os.environ/') ? path || 'body' : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = envReference(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (isMapping(value)) {
    for (const [k, v] of Object.entries(value)) {
      const found = envReference(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return undefined;
}

/** Why a URL with a user name or password is refused: it would sit in the URL, not in the sealed credentials. */
function urlUserinfo(url: unknown): string | undefined {
  if (typeof url !== 'string' || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  if (!u.username && !u.password) return undefined;
  return 'must not carry a user name or password; send them as auth_type (e.g. basic or bearer_token) with credentials, which are encrypted at rest';
}

/** Raises the first problems as one 400 (every message, joined), naming the first field. */
function refuse(problems: FieldProblem[]): never {
  throw new AdminError(400, problems.map((p) => p.message).join('; '), 'bad_request_error', problems[0]!.param);
}

/**
 * The server a record defines, checked as config.yaml is checked, then as only API-registered servers
 * are: the stdio allow-list, sealed storage for credentials, and the address guard on its URLs.
 */
export async function checkRecord(record: ServerRecord, s: ServerWriteSettings): Promise<ServerConfig> {
  const reference = envReference(record);
  if (reference) {
    throw badRequest(
      reference,
      "os.environ/ references are not read for servers stored through the API (they would hand the gateway's environment, salt key included, to whoever may write servers); send the value itself, it is encrypted at rest",
    );
  }
  const userinfo = urlUserinfo(record.url);
  if (userinfo) throw badRequest('url', userinfo);
  const safety = stdioProblems(record, s.stdioExtraCommands);
  if (safety.length) refuse(safety);
  const { config, problems } = parseRecord(record, s.env, s.file);
  if (!config) refuse(problems);
  const secret = secretsOf(record);
  if (secret.length && !s.seal) {
    throw badRequest(
      secret[0]!,
      `storing credentials, header or env values, a URL with a query string or stdio args needs a key to encrypt them with: set ${SALT_KEY_VARIABLES.join(" (or LiteLLM's ")}) on every gateway, then retry`,
    );
  }
  for (const [param, url] of [
    ['url', config.url],
    ['token_url', config.auth.type === 'oauth2' ? config.auth.tokenUrl : undefined],
  ] as const) {
    if (url === undefined) continue;
    const refusal = await checkUpstreamUrl(url, s.allowlist);
    if (refusal) throw badRequest(param, refusal);
  }
  record.transport = config.transport;
  return config;
}

/** A name or prefix another server already has: the aggregate's tool names would collide. */
export function nameProblem(config: ServerConfig, others: readonly ServerConfig[], configNames: ReadonlySet<string>): string | undefined {
  if (configNames.has(config.name)) return `server_name: ${JSON.stringify(config.name)} is a config.yaml server; choose another name`;
  const prefix = config.alias ?? config.name;
  for (const o of others) {
    if (o.name === config.name) return `server_name: a server named ${JSON.stringify(config.name)} already exists`;
    if ((o.alias ?? o.name) === prefix)
      return `${config.alias ? 'alias' : 'server_name'}: tool-name prefix ${JSON.stringify(prefix)} is already used by server ${JSON.stringify(o.name)}`;
  }
  return undefined;
}
