import type { Logger } from 'pino';
import type { Caller } from '../../caller/caller.js';

/** One audit row as the control plane writes it (src/admin/audit.ts recordAudit's entry). */
export interface AlertRow {
  actor: string;
  action: string;
  objectType: string;
  objectId?: string;
  after?: unknown;
}

/** Audit writes in flight at most; beyond it alerts are still logged and counted, their rows dropped (counted). */
const MAX_IN_FLIGHT = 256;

/**
 * Guardrail blocks and pinning drift, raised from the request path: a log line and a counter at once,
 * the audit row written in the background (never awaited by the call), bounded so a flood of blocks
 * cannot pile up writes.
 */
export class Alerts {
  /** Alerts raised, by action (`guardrail_blocked`, `mcp_pinned_tools_changed`, ...). */
  readonly counts = new Map<string, number>();
  /** Audit rows not written (store down, or too many in flight). */
  dropped = 0;
  private inFlight = 0;

  constructor(
    private readonly log: Logger,
    private readonly write?: (row: AlertRow) => Promise<void>,
  ) {}

  raise(row: AlertRow, message: string, fields: Record<string, unknown> = {}): void {
    this.counts.set(row.action, (this.counts.get(row.action) ?? 0) + 1);
    this.log.warn({ alert: row.action, object: row.objectId, ...fields }, message);
    if (!this.write) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.dropped++;
      return;
    }
    this.inFlight++;
    this.write(row)
      .catch((err: Error) => {
        this.dropped++;
        this.log.warn({ alert: row.action, err: err.message }, 'alert audit row not written');
      })
      .finally(() => this.inFlight--);
  }

  count(action: string): number {
    return this.counts.get(action) ?? 0;
  }
}

/** Who the audit trail names for a caller (the same form as the management API's actors). */
export function actorOf(caller: Caller): string {
  if (caller.isMaster) return 'master';
  return caller.identity?.userId !== undefined ? `user:${caller.identity.userId}` : caller.keyId;
}
