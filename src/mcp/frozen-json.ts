import type { JsonRpcResponse } from './jsonrpc.js';

/*
 * Frozen JSON: values that never change once built (aggregate listing pages) are serialised and
 * UTF-8 encoded once, then reused by every response that carries them. A leaf module, so the
 * router (which freezes pages) and the edge (which writes responses) both use it without the
 * router importing from the edge.
 */

/** UTF-8 JSON of values that never change once built (aggregate listing pages), encoded once per value. */
const frozenJson = new WeakMap<object, Buffer | undefined>();

/** Declares `value` immutable from now on, so its encoded JSON can be reused by every response carrying it. */
export function freezeForJson<T extends object>(value: T): T {
  if (!frozenJson.has(value)) frozenJson.set(value, undefined);
  return value;
}

function carriesFrozen(result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false;
  for (const v of Object.values(result)) if (typeof v === 'object' && v !== null && frozenJson.has(v)) return true;
  return false;
}

/** Appends the same text JSON.stringify gives, with frozen values `depth` levels down as their cached bytes. */
function appendJson(value: unknown, depth: number, out: Array<string | Buffer>): void {
  if (typeof value === 'object' && value !== null && frozenJson.has(value)) {
    let bytes = frozenJson.get(value);
    if (bytes === undefined) frozenJson.set(value, (bytes = Buffer.from(JSON.stringify(value), 'utf8')));
    out.push(bytes);
    return;
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    depth === 0 ||
    Array.isArray(value) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    out.push(JSON.stringify(value));
    return;
  }
  let sep = '{';
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue; // JSON.stringify drops these
    out.push(`${sep}${JSON.stringify(k)}:`);
    appendJson(v, depth - 1, out);
    sep = ',';
  }
  out.push(sep === '{' ? '{}' : '}');
}

/**
 * A response's JSON as chunks. Serialising and UTF-8 encoding a 1,000-tool aggregate page on every tools/list was
 * the top self time of the listing path (bench/findings.md); pages are frozen, so only the small envelope around
 * their cached bytes is built anew.
 */
export function responseJson(response: JsonRpcResponse): Array<string | Buffer> {
  const result = (response as { result?: unknown }).result;
  if (!carriesFrozen(result)) return [JSON.stringify(response)];
  const out: Array<string | Buffer> = [];
  appendJson(response, 2, out);
  return out;
}
