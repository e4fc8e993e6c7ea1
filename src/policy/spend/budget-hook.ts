import type { Caller } from '../../caller/caller.js';
import type { Forward, PolicyHook, ToolCall } from '../hooks.js';
import type { SpendLedger } from './ledger.js';
import { hasBudget } from './levels.js';

/** Refuses a call before it reaches the upstream when any of the caller's levels spent its max_budget (memory only). */
export class BudgetHook implements PolicyHook {
  readonly name = 'budget';

  constructor(private readonly ledger: SpendLedger) {}

  applies(caller: Caller): boolean {
    return hasBudget(caller);
  }

  call(call: ToolCall, next: Forward): Promise<Record<string, unknown>> {
    this.ledger.check(call.caller);
    return next(call);
  }
}
