import { isObject } from '../mcp/jsonrpc.js';
import type { CallContext } from './route.js';

type Result = Record<string, unknown>;

const PARAM = 'mcp-param-';
const BASE64 = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/;

/**
 * The headers a request to `server` carries upstream. `Mcp-Param-*` headers (2026-07-28, SEP-2243)
 * mirror a tools/call's arguments; the client's copies would carry what a guardrail masked or
 * `allowed_params` removed past the policy, so one goes on only while its value is still that of an
 * argument the upstream gets (a top-level string, number or boolean), and never with another method.
 */
export function upstreamHeaders(ctx: CallContext, server: string, method: string, params?: Result): Record<string, string> | undefined {
  const headers = ctx.headersFor(server);
  if (!headers) return headers;
  let out: Record<string, string> | undefined;
  let values: Set<string> | undefined;
  for (const h in headers) {
    if (!h.startsWith(PARAM)) continue;
    values ??= argumentValues(method, params);
    if (values.has(decoded(headers[h]!))) continue;
    out ??= { ...headers };
    delete out[h];
  }
  return out ?? headers;
}

function argumentValues(method: string, params: Result | undefined): Set<string> {
  const args = method === 'tools/call' && isObject(params) && isObject(params.arguments) ? params.arguments : {};
  const out = new Set<string>();
  for (const v of Object.values(args)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
  return out;
}

function decoded(value: string): string {
  const m = BASE64.exec(value.trim());
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value.trim();
}
