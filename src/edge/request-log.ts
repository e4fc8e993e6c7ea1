import type { ServerResponse } from 'node:http';

/** What the one log line of a request says, filled in as the request moves along. */
export interface RequestLog {
  route: string;
  server?: string;
  method?: string;
  /** The tool, prompt or resource a tools/call, prompts/get or resources/read names. */
  target?: string;
  /** The caller's key alias, else its non-secret id (a hash prefix); never the key. */
  key?: string;
  /** Why the request was refused or failed (missing_key, unknown_server, denied, limited, ...). */
  reason?: string;
  session?: boolean;
  /** Time spent waiting on the route's request call (the upstreams), against the line's total `ms`. */
  upstreamMs?: number;
}

/**
 * Edge refusals are written by `refuse` deep in the transports, which has the response but not the
 * RequestLog; the refusal kind rides the response under this symbol so the line can still say why.
 */
const REFUSAL = Symbol('toolgate.refusal');
type Noted = ServerResponse & { [REFUSAL]?: string };

export function noteRefusal(res: ServerResponse, reason: string): void {
  (res as Noted)[REFUSAL] = reason;
}

export function refusalOf(res: ServerResponse): string | undefined {
  return (res as Noted)[REFUSAL];
}

/** The name a request targets (tool / prompt name, resource URI), for the log; undefined for other methods. */
export function targetOf(method: string, params: unknown): string | undefined {
  if (method !== 'tools/call' && method !== 'prompts/get' && method !== 'resources/read') return undefined;
  if (typeof params !== 'object' || params === null) return undefined;
  const p = params as { name?: unknown; uri?: unknown };
  const v = method === 'resources/read' ? p.uri : p.name;
  // A resource URI could carry a query string with a token in it: log only up to the '?'.
  return typeof v === 'string' ? v.split('?', 1)[0]!.slice(0, 200) : undefined;
}

/** Records the upstream wait since `started`; a batch's calls run side by side, so its longest wait counts. */
export function noteUpstreamTime(log: RequestLog | undefined, started: number): void {
  if (!log) return;
  const ms = performance.now() - started;
  if (log.upstreamMs === undefined || ms > log.upstreamMs) log.upstreamMs = ms;
}

export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The fields of a request's log line that the line's RequestLog holds (undefined ones are left out of the line). */
export function requestLineFields(log: RequestLog): Record<string, unknown> {
  return {
    reason: log.reason,
    key: log.key,
    server: log.server,
    method: log.method,
    target: log.target,
    session: log.session,
    upstream_ms: log.upstreamMs === undefined ? undefined : round3(log.upstreamMs),
  };
}
