import type { Logger } from 'pino';
import type { Caller } from '../../caller/caller.js';
import type { LevelLimits } from '../../caller/identity.js';
import { BudgetExceeded } from '../../mcp/errors.js';
import { callerLevels, LEVEL_WORD, type SpendLevel } from './levels.js';
import { nextReset } from './period.js';

interface Entry {
  level: SpendLevel;
  id: string;
  /** What the store held when last read (or returned by our own last write). */
  base: number;
  /** Charged here and not yet in `base` (pending or being written). */
  local: number;
  resetAt?: number;
  softAlerted: boolean;
  /** Bumped by each reset: a write that started before it must not bring the old spend back. */
  epoch: number;
  /** `writes` when our own write last set `base`: a re-read that started earlier is older than it. */
  writtenAt: number;
}

/** What the writer persists for one level: added spend, a reset, the first reset time, the soft alert. */
export interface SpendOp {
  level: SpendLevel;
  id: string;
  delta: number;
  /** The period ended: spend back to 0 and this new reset time (null: none known), before the delta. */
  reset?: { to: number | null };
  resetAt?: number;
  softAlerted?: boolean;
  epoch: number;
}

/** A soft budget crossed, once per period: the writer records its audit row. */
export interface SoftAlert {
  level: SpendLevel;
  id: string;
  spend: number;
  softBudget: number;
}

export interface StoredSpend {
  level: string;
  id: string;
  spend: number;
  budget_reset_at: Date | string | null;
  soft_alerted?: boolean;
}

const round = (n: number) => Number(n.toPrecision(12));

/**
 * Spend per key, team, user and organization, in memory: the budget check reads only this, and a
 * call's price is added here at once. The writer persists the changes in batches (`take`), and the
 * ledger re-reads the stored totals when another replica wrote (`load`), so replicas share one spend.
 */
export class SpendLedger {
  private readonly entries = new Map<string, Entry>();
  private pending = new Map<string, SpendOp>();
  /** Levels whose changes are being written now. */
  private readonly busy = new Set<string>();
  /** The soonest reset of any level, so the sweep on the writer's timer is one comparison until then. */
  private soonest = Infinity;
  /** Our own committed writes so far (see Entry.writtenAt). */
  writes = 0;
  /** Soft budget alerts raised (a counter beside the log line and the audit row). */
  softAlerts = 0;
  alerts: SoftAlert[] = [];

  constructor(
    private readonly log: Logger,
    /** The level's limits as the identity snapshot holds them now (for resets of levels no call touched). */
    public limitsOf: (level: SpendLevel, id: string) => LevelLimits | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Refuses a caller any of whose levels spent its max_budget (LiteLLM's message and type). */
  check(caller: Caller): void {
    for (const l of callerLevels(caller)) {
      const max = l.limits?.max_budget;
      if (max == null) continue;
      const spend = this.spend(l.level, l.id, l.limits);
      if (spend >= max) {
        throw new BudgetExceeded(`ExceededBudget: ${LEVEL_WORD[l.level]}=${l.label} over budget. Spend=${round(spend)}, Budget=${max}`, {
          type: 'budget_exceeded',
          level: l.level,
          spend: round(spend),
          max_budget: max,
        });
      }
    }
  }

  /** Adds one call's price to each of the caller's levels. */
  charge(caller: Caller, cost: number): void {
    if (!(cost > 0)) return;
    for (const l of callerLevels(caller)) {
      const e = this.entry(l.level, l.id, l.limits);
      e.local += cost;
      const op = this.op(e);
      op.delta += cost;
      const soft = l.limits?.soft_budget;
      if (soft != null && !e.softAlerted && e.base + e.local >= soft) {
        e.softAlerted = true;
        op.softAlerted = true;
        this.softAlerts++;
        const spend = round(e.base + e.local);
        this.alerts.push({ level: l.level, id: l.id, spend, softBudget: soft });
        // The id of a key is its token's hash (never the key): safe to log.
        this.log.warn({ level: l.level, id: l.id, spend, soft_budget: soft }, 'soft_budget crossed');
      }
    }
  }

  /** The level's spend now (0 after its period ended). */
  spend(level: SpendLevel, id: string, limits?: LevelLimits): number {
    const e = this.entry(level, id, limits);
    return e.base + e.local;
  }

  /** Ends every period that is due (the writer calls this on its timer, so resets happen on schedule). */
  sweep(): void {
    const now = this.now();
    if (now < this.soonest) return;
    this.soonest = Infinity;
    for (const e of this.entries.values()) {
      if (e.resetAt !== undefined && e.resetAt <= now) this.reset(e, this.limitsOf(e.level, e.id));
      if (e.resetAt !== undefined) this.soonest = Math.min(this.soonest, e.resetAt);
    }
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** The changes to persist, handed over once; `restore` puts them back when the write failed. */
  take(): SpendOp[] {
    if (this.pending.size === 0) return [];
    const ops = [...this.pending.values()];
    this.pending = new Map();
    for (const op of ops) this.busy.add(op.level + ':' + op.id);
    return ops;
  }

  restore(ops: SpendOp[]): void {
    for (const op of ops) {
      const k = op.level + ':' + op.id;
      this.busy.delete(k);
      const now = this.pending.get(k);
      if (!now) this.pending.set(k, op);
      else if (now.epoch === op.epoch) {
        now.delta += op.delta;
        now.reset ??= op.reset;
        now.resetAt ??= op.resetAt;
        now.softAlerted ||= op.softAlerted;
      }
      // A later reset (newer epoch) already superseded what failed to be written.
    }
  }

  /** A write of `ops` committed and the store now holds `stored` for those levels. */
  written(ops: SpendOp[], stored: StoredSpend[]): void {
    const totals = new Map(stored.map((r) => [r.level + ':' + r.id, r]));
    this.writes++;
    for (const op of ops) {
      this.busy.delete(op.level + ':' + op.id);
      const e = this.entries.get(op.level + ':' + op.id);
      if (!e || e.epoch !== op.epoch) continue;
      e.local -= op.delta;
      const row = totals.get(op.level + ':' + op.id);
      // The store's total includes what other replicas added; what was charged since stays in `local`.
      if (row) {
        e.base = Number(row.spend);
        e.writtenAt = this.writes;
      }
    }
  }

  /**
   * The stored totals (at start, and after another replica wrote), read when `writes` was `readAt`:
   * levels with a write under way, or written by us since that read, keep what they have.
   */
  load(rows: StoredSpend[], readAt = this.writes): void {
    for (const r of rows) {
      const k = r.level + ':' + r.id;
      const known = this.entries.get(k);
      if (this.busy.has(k) || (known && known.writtenAt > readAt)) continue;
      const e = known ?? this.create(r.level as SpendLevel, r.id);
      e.base = Number(r.spend);
      e.resetAt = r.budget_reset_at === null ? undefined : new Date(r.budget_reset_at).getTime();
      if (e.resetAt !== undefined) this.soonest = Math.min(this.soonest, e.resetAt);
      e.softAlerted = r.soft_alerted === true;
    }
  }

  /** What /key/info and the others show when this process knows the level. */
  view(level: SpendLevel, id: string): { spend: number; budget_reset_at: string | null } | undefined {
    const e = this.entries.get(level + ':' + id);
    if (!e) return undefined;
    this.due(e, this.limitsOf(level, id));
    return { spend: round(e.base + e.local), budget_reset_at: e.resetAt === undefined ? null : new Date(e.resetAt).toISOString() };
  }

  private entry(level: SpendLevel, id: string, limits: LevelLimits | undefined): Entry {
    const e = this.entries.get(level + ':' + id) ?? this.create(level, id);
    this.due(e, limits);
    return e;
  }

  private create(level: SpendLevel, id: string): Entry {
    const e: Entry = { level, id, base: 0, local: 0, softAlerted: false, epoch: 0, writtenAt: 0 };
    this.entries.set(level + ':' + id, e);
    return e;
  }

  /** Starts the level's first period when it has a budget_duration, or ends one that is over. */
  private due(e: Entry, limits: LevelLimits | undefined): void {
    if (e.resetAt === undefined) {
      const at = nextReset(limits?.budget_duration, this.now());
      if (at !== undefined) {
        e.resetAt = at;
        this.soonest = Math.min(this.soonest, at);
        this.op(e).resetAt = at;
      }
    } else if (e.resetAt <= this.now()) this.reset(e, limits);
  }

  private reset(e: Entry, limits: LevelLimits | undefined): void {
    const now = this.now();
    e.base = 0;
    e.local = 0;
    e.softAlerted = false;
    e.epoch++;
    e.resetAt = nextReset(limits?.budget_duration, now);
    if (e.resetAt !== undefined) this.soonest = Math.min(this.soonest, e.resetAt);
    // Pending spend of the ended period is dropped with it; the reset goes first in the next write.
    const op: SpendOp = { level: e.level, id: e.id, delta: 0, reset: { to: e.resetAt ?? null }, epoch: e.epoch };
    this.pending.set(e.level + ':' + e.id, op);
    this.log.info({ level: e.level, id: e.id, budget_reset_at: e.resetAt && new Date(e.resetAt).toISOString() }, 'budget period reset');
  }

  private op(e: Entry): SpendOp {
    const k = e.level + ':' + e.id;
    let op = this.pending.get(k);
    if (!op) this.pending.set(k, (op = { level: e.level, id: e.id, delta: 0, epoch: e.epoch }));
    return op;
  }
}
