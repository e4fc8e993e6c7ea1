import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { AdminCliError, list, type Options } from './admin-client.js';

/** The options that describe a server, shared by `add`, `update` and `test`. */
export const SERVER_OPTIONS = {
  file: { type: 'string' },
  upstream: { type: 'string' },
  transport: { type: 'string' },
  command: { type: 'string' },
  arg: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  header: { type: 'string', multiple: true },
  'auth-type': { type: 'string' },
  'auth-value-env': { type: 'string' },
  description: { type: 'string' },
  alias: { type: 'string' },
  groups: { type: 'string' },
  'allowed-tools': { type: 'string' },
  'disallowed-tools': { type: 'string' },
  'allow-all-keys': { type: 'boolean' },
  timeout: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const SERVER_USAGE =
  '[--file request.json|-] [--upstream URL | --command CMD --arg A ...] [--transport http|sse|stdio] [--auth-type T --auth-value-env VAR] ' +
  '[--header K=V ...] [--env K=V ...] [--description D] [--alias A] [--groups g1,g2] [--allowed-tools a,b] [--disallowed-tools a,b] [--allow-all-keys] [--timeout SECONDS]';

function pairs(values: unknown, option: string): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const v of values as string[]) {
    const i = v.indexOf('=');
    if (i <= 0) throw new AdminCliError(`--${option} expects NAME=VALUE (got ${JSON.stringify(v)})`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/**
 * A NewMCPServerRequest from the options: `--file` (LiteLLM's JSON request body) first, the flags over
 * it. A credential is read from the named environment variable, never from the command line, where
 * other users of the machine could see it.
 */
export function serverBody(v: Options, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  if (typeof v.file === 'string') {
    const text = readFileSync(v.file === '-' ? 0 : v.file, 'utf8');
    try {
      body = JSON.parse(text);
    } catch {
      throw new AdminCliError(`--file ${v.file}: not valid JSON (LiteLLM's NewMCPServerRequest as a JSON object)`);
    }
  }
  let credentials: Record<string, unknown> | undefined;
  if (typeof v['auth-value-env'] === 'string') {
    const value = env[v['auth-value-env']];
    if (!value) throw new AdminCliError(`--auth-value-env: environment variable ${v['auth-value-env']} is not set`);
    credentials = { ...((body.credentials as Record<string, unknown>) ?? {}), auth_value: value };
  }
  const timeout = v.timeout === undefined ? undefined : Number(v.timeout);
  if (timeout !== undefined && !Number.isFinite(timeout)) throw new AdminCliError('--timeout expects a number of seconds');
  const flags: Record<string, unknown> = {
    url: v.upstream,
    transport: v.transport,
    command: v.command,
    args: v.arg,
    env: pairs(v.env, 'env'),
    static_headers: pairs(v.header, 'header'),
    auth_type: v['auth-type'],
    credentials,
    description: v.description,
    alias: v.alias,
    mcp_access_groups: list(v.groups as string | undefined),
    allowed_tools: list(v['allowed-tools'] as string | undefined),
    disallowed_tools: list(v['disallowed-tools'] as string | undefined),
    allow_all_keys: v['allow-all-keys'],
    timeout,
  };
  for (const [k, val] of Object.entries(flags)) if (val !== undefined) body[k] = val;
  return body;
}
