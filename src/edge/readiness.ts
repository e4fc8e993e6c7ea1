import type { HealthResult } from '../registry/health-checks.js';
import type { HealthErrorClass } from '../upstream/health.js';
import type { Upstream } from '../upstream/upstream.js';

/** One server as readiness reports it. `error` is the gateway's own sentence: never upstream text without the master key. */
interface ServerHealth {
  transport: string;
  state: string;
  errorClass?: string;
  error?: string;
  /** The last background health check (healthy, unhealthy or unknown) and when it ran. */
  health?: HealthResult['status'];
  last_health_check?: string | null;
}

export interface Readiness {
  status: number;
  body: { status: 'starting' | 'healthy' | 'degraded' | 'unhealthy'; sessions: number; servers: Record<string, ServerHealth> };
}

/** What the gateway says about each error class; the server's name is the only variable part. */
const CLASS_TEXT: Readonly<Record<HealthErrorClass, string>> = {
  connect: 'could not be reached (connection refused, DNS or reset)',
  timeout: 'did not answer within its timeout',
  unauthorized: "refused the gateway's credentials (check auth_type and its keys)",
  closed: 'closed the connection or its process exited',
  protocol: 'did not answer as an MCP server (check url and transport)',
  'http-status': 'answered with an HTTP error status',
};

/**
 * /health/readiness: 503 while the first probes run and when no server is usable, 200 `degraded`
 * when some are, 200 `healthy` when all are. Without the master key each server shows its state
 * and error class only: upstream text can carry reflected secrets or internal addresses.
 */
export function renderReadiness(
  upstreams: Iterable<Upstream>,
  started: boolean,
  sessions: number,
  detailed: boolean,
  checks?: (server: string) => HealthResult,
): Readiness {
  const servers: Record<string, ServerHealth> = {};
  let total = 0;
  let usable = 0;
  for (const u of upstreams) {
    total++;
    const health = u.health();
    const state = health.state;
    if (state === 'ready') usable++;
    const entry: ServerHealth = { transport: u.config.transport, state };
    if (state !== 'ready' && health.errorClass !== undefined) {
      entry.errorClass = health.errorClass;
      // health.error is already redacted of the server's secrets, and still shown to the master key only.
      entry.error = detailed && health.error ? health.error : `server "${u.name}" ${CLASS_TEXT[health.errorClass]}`;
    }
    const checked = checks?.(u.name);
    // The probe's own error text is upstream text: only its verdict and time are shown here.
    if (checked) Object.assign(entry, { health: checked.status, last_health_check: checked.last_health_check });
    servers[u.name] = entry;
  }
  const status = !started ? 'starting' : usable === total ? 'healthy' : usable === 0 ? 'unhealthy' : 'degraded';
  return { status: status === 'starting' || status === 'unhealthy' ? 503 : 200, body: { status, sessions, servers } };
}
