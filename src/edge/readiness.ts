import type { Upstream } from '../upstream/upstream.js';

/** One server as readiness reports it. `error` is the gateway's own sentence: never upstream text without the master key. */
interface ServerHealth {
  transport: string;
  state: string;
  errorClass?: string;
  error?: string;
}

export interface Readiness {
  status: number;
  body: { status: 'starting' | 'healthy' | 'degraded' | 'unhealthy'; sessions: number; servers: Record<string, ServerHealth> };
}

/** What the gateway says about each error class; the server's name is the only variable part. */
const CLASS_TEXT: ReadonlyMap<string, string> = new Map([
  ['unreachable', 'could not be reached (connection refused, DNS or reset)'],
  ['timeout', 'did not answer within its timeout'],
  ['unauthorized', "refused the gateway's credentials (check auth_type and its keys)"],
  ['closed', 'closed the connection or its process exited'],
  ['protocol', 'did not answer as an MCP server (check url and transport)'],
  ['http-status', 'answered with an HTTP error status'],
  ['error', 'failed'],
]);

/**
 * The error class of a down server. Today's Upstream keeps only the message of its last failure, so
 * the class is read from it; once upstream.health() gives the class itself, it is used as is.
 */
function errorClassOf(u: Upstream): string | undefined {
  const health = (u as { health?: () => { errorClass?: string } }).health;
  if (typeof health === 'function') return health.call(u).errorClass;
  const text = u.lastError;
  if (text === undefined) return undefined;
  if (/timed? ?out|timeout/i.test(text)) return 'timeout';
  if (/\b40[13]\b|unauthori[sz]ed|forbidden/i.test(text)) return 'unauthorized';
  if (/refused|unreachable|ENOTFOUND|EAI_AGAIN|ECONNRESET|connect/i.test(text)) return 'unreachable';
  if (/exited|killed|closed/i.test(text)) return 'closed';
  if (/not MCP|protocol|invalid JSON|content-type/i.test(text)) return 'protocol';
  if (/HTTP \d{3}|status \d{3}/i.test(text)) return 'http-status';
  return 'error';
}

function stateOf(u: Upstream): string {
  const health = (u as { health?: () => { state?: string } }).health;
  return (typeof health === 'function' ? health.call(u).state : undefined) ?? u.state;
}

/**
 * /health/readiness: 503 while the first probes run and when no server is usable, 200 `degraded`
 * when some are, 200 `healthy` when all are. Without the master key each server shows its state
 * and error class only: upstream text can carry reflected secrets or internal addresses.
 */
export function renderReadiness(upstreams: Iterable<Upstream>, started: boolean, sessions: number, detailed: boolean): Readiness {
  const servers: Record<string, ServerHealth> = {};
  let total = 0;
  let usable = 0;
  for (const u of upstreams) {
    total++;
    const state = stateOf(u);
    if (state === 'ready') usable++;
    const entry: ServerHealth = { transport: u.config.transport, state };
    const errorClass = state === 'ready' ? undefined : errorClassOf(u);
    if (errorClass !== undefined) {
      entry.errorClass = errorClass;
      entry.error = detailed && u.lastError ? u.lastError : `server "${u.name}" ${CLASS_TEXT.get(errorClass) ?? 'failed'}`;
    }
    servers[u.name] = entry;
  }
  const status = !started ? 'starting' : usable === total ? 'healthy' : usable === 0 ? 'unhealthy' : 'degraded';
  return { status: status === 'starting' || status === 'unhealthy' ? 503 : 200, body: { status, sessions, servers } };
}
