import type { Logger } from 'pino';
import { recordAudit } from '../../admin/audit.js';
import type { Queryable, Store } from '../../store/types.js';
import type { SoftAlert, SpendLedger, SpendOp, StoredSpend } from './ledger.js';
import { COPY_ROWS, INSERT_ROWS, rowsCsv, rowsJson, type SpendRow } from './rows.js';

export const SPEND_CHANGE = 'spend';

export interface WriterOptions {
  /** Rows held while the store is down; beyond it new rows are dropped (and counted). */
  bufferRows?: number;
  /** Rows per INSERT. */
  batchRows?: number;
  intervalMs?: number;
  /** Sent with this replica's change events, so it does not re-read its own writes. */
  replica: string;
}

/** What /spend/health shows. */
export interface WriterStats {
  queued: number;
  written: number;
  dropped: number;
  failures: number;
  store_ok: boolean;
  soft_budget_alerts: number;
}

// A period another replica already ended (its reset time moved past `now`) is not ended twice.
const RESET = `UPDATE toolgate_spend t SET spend = 0, soft_alerted = false, budget_reset_at = x.reset_to, updated_at = now()
  FROM jsonb_to_recordset($1::jsonb) AS x(level text, id text, reset_to timestamptz)
  WHERE t.level = x.level AND t.id = x.id AND (t.budget_reset_at IS NULL OR t.budget_reset_at <= $2::timestamptz)`;
const ADD = `INSERT INTO toolgate_spend (level, id, spend, budget_reset_at, soft_alerted)
  SELECT level, id, delta, reset_at, soft FROM jsonb_to_recordset($1::jsonb) AS x(level text, id text, delta double precision, reset_at timestamptz, soft boolean)
  ON CONFLICT (level, id) DO UPDATE SET spend = toolgate_spend.spend + excluded.spend,
    budget_reset_at = COALESCE(toolgate_spend.budget_reset_at, excluded.budget_reset_at),
    soft_alerted = toolgate_spend.soft_alerted OR excluded.soft_alerted, updated_at = now()
  RETURNING level, id, spend, budget_reset_at`;

/**
 * Writes spend log rows, spend totals and soft-budget audit rows in batches, off every call's path: a
 * call only pushes its row into memory. One write at a time; a failed write keeps its rows and is
 * retried with backoff while new rows wait in the bounded buffer.
 */
export class SpendWriter {
  private rows: SpendRow[] = [];
  private alerts: SoftAlert[] = [];
  private writing: Promise<void> | undefined;
  private inflight = 0;
  private readonly timer: NodeJS.Timeout;
  private retryAt = 0;
  private backoffMs = 0;
  private down = false;
  private written = 0;
  private dropped = 0;
  private failures = 0;
  private readonly bufferRows: number;
  private readonly batchRows: number;

  constructor(
    private readonly store: Store,
    private readonly ledger: SpendLedger,
    private readonly log: Logger,
    private readonly opts: WriterOptions,
  ) {
    this.bufferRows = opts.bufferRows ?? 100_000;
    this.batchRows = opts.batchRows ?? 1_000;
    this.timer = setInterval(() => this.tick(), opts.intervalMs ?? 100);
    this.timer.unref();
  }

  add(row: SpendRow): void {
    // Rows being written count too: a failed write puts them back.
    if (this.rows.length + this.inflight >= this.bufferRows) {
      if (this.dropped++ === 0 || this.dropped % 10_000 === 0)
        this.log.warn({ dropped: this.dropped, buffer_rows: this.bufferRows }, 'spend log buffer full: rows dropped');
      return;
    }
    this.rows.push(row);
    if (this.rows.length >= this.batchRows && !this.down) this.kick();
  }

  stats(): WriterStats {
    return {
      queued: this.rows.length + this.inflight,
      written: this.written,
      dropped: this.dropped,
      failures: this.failures,
      store_ok: !this.down,
      soft_budget_alerts: this.ledger.softAlerts,
    };
  }

  /** Writes everything queued (a clean shutdown); gives up after `ms` if the store stays down. */
  async flush(ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      await this.writing;
      this.ledger.sweep();
      this.takeAlerts();
      if (this.rows.length === 0 && this.alerts.length === 0 && !this.ledger.hasPending()) return;
      if (Date.now() > deadline) {
        this.log.warn({ queued: this.rows.length }, 'spend rows not written at shutdown: the store is unavailable');
        return;
      }
      if (this.down) await new Promise((r) => setTimeout(r, Math.min(200, this.backoffMs)));
      this.retryAt = 0;
      this.kick();
    }
  }

  async close(ms?: number): Promise<void> {
    clearInterval(this.timer);
    await this.flush(ms);
  }

  private tick(): void {
    this.ledger.sweep();
    this.takeAlerts();
    if (Date.now() < this.retryAt) return;
    if (this.rows.length > 0 || this.alerts.length > 0 || this.ledger.hasPending()) this.kick();
  }

  private takeAlerts(): void {
    if (this.ledger.alerts.length === 0) return;
    this.alerts.push(...this.ledger.alerts);
    this.ledger.alerts = [];
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.writeOnce().finally(() => (this.writing = undefined));
  }

  private async writeOnce(): Promise<void> {
    const rows = this.rows.splice(0, this.batchRows);
    const alerts = this.alerts.splice(0);
    const ops = this.ledger.take();
    this.inflight = rows.length;
    try {
      const stored = await this.store.transaction(async (tx) => {
        if (rows.length > 0) await insertRows(tx, rows);
        const totals = await writeTotals(tx, ops);
        for (const a of alerts) await recordAudit(tx, softAudit(a));
        return totals;
      });
      this.ledger.written(ops, stored);
      this.written += rows.length;
      this.inflight = 0;
      if (this.down) this.log.info({ queued: this.rows.length }, 'spend writer: store reachable again');
      this.down = false;
      this.backoffMs = 0;
      if (ops.length > 0) await this.store.publish({ kind: SPEND_CHANGE, id: this.opts.replica }).catch(() => {});
    } catch (err) {
      this.rows.unshift(...rows);
      this.alerts.unshift(...alerts);
      this.ledger.restore(ops);
      this.failures++;
      this.backoffMs = Math.min(5_000, Math.max(100, this.backoffMs * 2));
      this.retryAt = Date.now() + this.backoffMs;
      if (!this.down)
        this.log.warn({ err: (err as Error).message, queued: this.rows.length }, 'spend writer: store unavailable, rows buffered');
      this.down = true;
    } finally {
      this.inflight = 0;
    }
  }
}

function insertRows(tx: Queryable, rows: SpendRow[]): Promise<unknown> {
  return tx.copyFrom ? tx.copyFrom(COPY_ROWS, rowsCsv(rows)) : tx.query(INSERT_ROWS, [rowsJson(rows)]);
}

async function writeTotals(tx: Queryable, ops: SpendOp[]): Promise<StoredSpend[]> {
  if (ops.length === 0) return [];
  const resets = ops.filter((o) => o.reset).map((o) => ({ level: o.level, id: o.id, reset_to: isoOrNull(o.reset!.to) }));
  if (resets.length > 0) await tx.query(RESET, [JSON.stringify(resets), new Date().toISOString()]);
  const adds = ops.map((o) => ({
    level: o.level,
    id: o.id,
    delta: o.delta,
    reset_at: isoOrNull(o.resetAt ?? o.reset?.to ?? null),
    soft: o.softAlerted === true,
  }));
  return tx.query<StoredSpend>(ADD, [JSON.stringify(adds)]);
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function softAudit(a: SoftAlert) {
  return {
    actor: 'toolgate',
    action: 'budget.soft_budget_crossed',
    objectType: a.level,
    objectId: a.id,
    after: { spend: a.spend, soft_budget: a.softBudget },
  };
}
