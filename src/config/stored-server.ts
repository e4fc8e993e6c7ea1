import { IssueList, type KeyPath } from './issues.js';
import { formatPath } from './issues.js';
import { isMapping, type Env } from './fields.js';
import { parseServer } from './servers.js';
import type { ServerConfig } from './types.js';

/**
 * A server as LiteLLM's management API writes it (NewMCPServerRequest), with its credentials in
 * clear: what the API receives, and what the store gives back once its sealed values are opened.
 * It is validated by turning it into a config.yaml `mcp_servers` entry and running the config's own
 * validation, so the API and config.yaml accept the same servers with the same messages.
 */
export interface ServerRecord {
  server_id: string;
  server_name: string;
  transport?: string;
  url?: string;
  command?: string;
  args?: unknown;
  env?: Record<string, string>;
  auth_type?: string;
  credentials?: Record<string, unknown>;
  static_headers?: Record<string, string>;
  mcp_access_groups?: unknown;
  /** Every other field, under its config.yaml name (description, alias, allowed_tools, mcp_info, ...). */
  [field: string]: unknown;
}

/** Fields LiteLLM keeps under `credentials` and config.yaml at the server's top level. */
export const CREDENTIAL_FIELDS = [
  'auth_value',
  'authentication_token',
  'client_id',
  'client_secret',
  'scopes',
  'audience',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_region_name',
  'aws_service_name',
  'aws_role_name',
  'aws_session_name',
] as const;

/** Request fields with another name in config.yaml. */
const RENAMED: Record<string, string> = { mcp_access_groups: 'access_groups' };
const REQUEST_NAME: Record<string, string> = { access_groups: 'mcp_access_groups' };
/** The request's own bookkeeping, not server settings. */
const NOT_CONFIG = new Set(['server_id', 'server_name', 'credentials']);

/** The config.yaml mapping for a record: credentials flattened, fields renamed. */
export function toConfigMapping(record: ServerRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined || v === null || NOT_CONFIG.has(k)) continue;
    out[RENAMED[k] ?? k] = v;
  }
  if (isMapping(record.credentials)) for (const [k, v] of Object.entries(record.credentials)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** A validation problem in the request's terms: the field as the request names it, and the message with it. */
export interface FieldProblem {
  param: string;
  message: string;
}

/**
 * Issues as the API reports them: the path of the request field (`url`, `credentials.client_secret`,
 * `mcp_access_groups[0]`) instead of the file and `mcp_servers.<name>`, the problem worded as config.yaml words it.
 */
class RequestIssues extends IssueList {
  readonly problems: FieldProblem[] = [];

  override error(where: KeyPath | string, problem: string): void {
    const param = requestPath(where);
    this.problems.push({ param, message: `${param}: ${problem}` });
    this.errors.push(`${param}: ${problem}`);
  }

  override warn(where: KeyPath | string, problem: string): void {
    // config.yaml warns about a key nobody reads (the file may serve LiteLLM too); an API request with
    // one is a typo the caller should hear about, as the identity API's strict fields do. Other
    // warnings (a field ignored because of another) leave the stored object to show what applies.
    if (problem.startsWith('unknown key')) this.error(where, problem.replace('unknown key, ignored', 'unknown field'));
  }
}

function requestPath(where: KeyPath | string): string {
  if (typeof where === 'string') return where;
  const rest = where[0] === 'mcp_servers' ? where.slice(2) : where;
  if (rest.length === 0) return 'server_name';
  const [head, ...tail] = rest;
  const field = String(head);
  const name = (CREDENTIAL_FIELDS as readonly string[]).includes(field) ? `credentials.${field}` : (REQUEST_NAME[field] ?? field);
  return tail.length ? `${name}${formatPath(['x', ...tail]).slice(1)}` : name;
}

/** The server a record defines, or the problems that stop it; `file` anchors relative stdio paths (the config file). */
export function parseRecord(record: ServerRecord, env: Env, file: string): { config?: ServerConfig; problems: FieldProblem[] } {
  const issues = new RequestIssues(file);
  const config = parseServer(record.server_name, toConfigMapping(record), env, issues);
  // Registered through the API: it connects through the address guard, unlike config.yaml's servers.
  return { config: issues.problems.length === 0 && config ? { ...config, origin: 'api' } : undefined, problems: issues.problems };
}
