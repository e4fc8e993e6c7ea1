/**
 * Rendering of values that may hold secrets, shared by config errors and `check-config` output.
 * Principle: a secret never leaves the process in a message; at most a short prefix helps an operator
 * tell two keys apart.
 */

/** Values shorter than this show no prefix at all: four characters of an eight-character secret is half of it. */
const MIN_LENGTH_FOR_PREFIX = 12;
const PREFIX_LENGTH = 4;

export function maskSecret(value: string): string {
  const length = `(${value.length} chars)`;
  if (value.length < MIN_LENGTH_FOR_PREFIX) return `…${length}`;
  return `${value.slice(0, PREFIX_LENGTH)}…${length}`;
}

/**
 * URLs sometimes carry credentials (userinfo, `?api_key=`); keep scheme, host and path so the operator
 * still recognises the server.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return maskSecret(value);
  }
  if (url.username || url.password) {
    url.username = url.username ? '***' : '';
    url.password = url.password ? '***' : '';
  }
  const query = url.search ? '?…' : '';
  url.search = '';
  url.hash = '';
  return `${url.toString()}${query}`;
}

/** Config keys whose values are credentials, wherever they appear. */
const SECRET_KEYS = new Set([
  'auth_value',
  'authentication_token',
  'client_id',
  'client_secret',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'master_key',
  'state_secret',
]);

/** Maps whose every value may be a credential (`env: {GITHUB_TOKEN: …}`, `static_headers: {x-api-key: …}`). */
const SECRET_MAPS = new Set(['env', 'static_headers', 'environment_variables']);

export function isSecretPath(path: readonly PropertyKey[]): boolean {
  const last = path[path.length - 1];
  if (typeof last === 'string' && SECRET_KEYS.has(last)) return true;
  const parent = path[path.length - 2];
  return typeof parent === 'string' && SECRET_MAPS.has(parent);
}
