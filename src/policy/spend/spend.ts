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

const READ = 'SELECT level, id, spend, budget_reset_at, soft_alerted FROM toolgate_spend';

/** Loads the stored spend (before the gateway serves), and re-reads it when another replica wrote. */
export async function startSpend(opts: { store: Store; log: Logger; bufferRows?: number }): Promise<Spend> {
  const { store, log } = opts;
  const replica = randomUUID();
  const ledger = new SpendLedger(log);
  ledger.load(await store.query<StoredSpend>(READ));
  const writer = new SpendWriter(store, ledger, log, { bufferRows: opts.bufferRows, replica });
  let reading: Promise<void> | undefined;
  let again = false;
  const reread = () => {
    if (reading) return void (again = true);
    const readAt = ledger.writes;
    reading = store
      .query<StoredSpend>(READ)
      .then((rows) => ledger.load(rows, readAt))
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
    if ((c.kind === SPEND_CHANGE && c.id !== replica) || c.kind === RESYNC_KIND) reread();
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
