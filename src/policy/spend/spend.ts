import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { IdentitySnapshot } from '../../caller/snapshot.js';
import type { ServerSource } from '../../registry/registry.js';
import { RESYNC_KIND, type Store } from '../../store/types.js';
import { BudgetHook } from './budget-hook.js';
import { SpendLedger, type StoredSpend } from './ledger.js';
import type { SpendLevel } from './levels.js';
import { SpendRecorder } from './recorder.js';
import { SPEND_CHANGE, SpendWriter } from './writer.js';

/** Cost, spend, budgets and spend logs, built once by the gateway. */
export interface Spend {
  ledger: SpendLedger;
  writer: SpendWriter;
  /** The budget check, a policy hook. */
  budget: BudgetHook;
  /** The spend log recorder, once the servers (their prices) are known. */
  recorder(servers: ServerSource): SpendRecorder;
  /** Budget periods follow the levels' current budget_duration. */
  useIdentity(snapshot: IdentitySnapshot): void;
  /** Writes what is queued (a clean shutdown), then stops. */
  close(): Promise<void>;
}

const READ = 'SELECT level, id, spend, budget_reset_at, soft_alerted, now() AS read_at FROM toolgate_spend';
/**
 * After the first read only the rows changed since the last one (with a margin: updated_at is a
 * transaction's start, which may commit a little after our previous read began).
 */
const READ_SINCE = READ + " WHERE updated_at >= $1::timestamptz - interval '10 seconds'";

type ReadRow = StoredSpend & { read_at?: Date | string };

/** Loads the stored spend (before the gateway serves), and re-reads it when another replica wrote. */
export async function startSpend(opts: { store: Store; log: Logger; bufferRows?: number }): Promise<Spend> {
  const { store, log } = opts;
  const replica = randomUUID();
  const ledger = new SpendLedger(log);
  const first = await store.query<ReadRow>(READ);
  ledger.load(first);
  // The database's clock, not ours: replicas' clocks may differ.
  let since: string | undefined = first[0]?.read_at ? new Date(first[0].read_at).toISOString() : undefined;
  const writer = new SpendWriter(store, ledger, log, { bufferRows: opts.bufferRows, replica });
  let reading: Promise<void> | undefined;
  let again = false;
  const reread = (all = false) => {
    if (reading) return void (again = true);
    const readAt = ledger.writes;
    const started = new Date().toISOString();
    reading = (since && !all ? store.query<ReadRow>(READ_SINCE, [since]) : store.query<ReadRow>(READ))
      .then((rows) => {
        ledger.load(rows, readAt);
        const at = rows[0]?.read_at;
        since = at ? new Date(at).toISOString() : (since ?? started);
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'spend re-read failed'))
      .finally(() => {
        reading = undefined;
        if (again) {
          again = false;
          reread();
        }
      });
  };
  const off = store.onChange((c) => {
    if (c.kind === SPEND_CHANGE && c.id !== replica) reread();
    else if (c.kind === RESYNC_KIND) reread(true);
  });
  return {
    ledger,
    writer,
    budget: new BudgetHook(ledger),
    recorder: (servers) => new SpendRecorder(servers, ledger, writer),
    useIdentity(snapshot) {
      ledger.limitsOf = (level: SpendLevel, id: string) => {
        if (level === 'key') return snapshot.key(id)?.limits;
        if (level === 'team') return snapshot.team(id)?.limits;
        if (level === 'user') return snapshot.user(id)?.limits;
        return snapshot.organization(id)?.limits;
      };
    },
    async close() {
      off();
      await writer.close();
      await reading;
    },
  };
}
