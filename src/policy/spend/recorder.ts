import { randomUUID } from 'node:crypto';
import type { Caller } from '../../caller/caller.js';
import { BudgetExceeded, LimitExceeded, PolicyDenied } from '../../mcp/errors.js';
import { ErrorCode, McpError } from '../../mcp/jsonrpc.js';
import type { ServerSource } from '../../registry/registry.js';
import { CALL_NOTES, type CallNotes, type CallRecorder, type ToolCall } from '../hooks.js';
import type { SpendLedger } from './ledger.js';
import { priceOf } from './price.js';
import type { CallType, Outcome, SpendRow } from './rows.js';
import type { SpendWriter } from './writer.js';

type Result = Record<string, unknown>;

/** The guardrails' block text (issue 14): a hook that does not set `CallNotes.blocked` is still recognised by it. */
const GUARDRAIL_TEXT = 'Guardrail violation - ';

/**
 * The outermost stage: every tools/call (refusals included) and every tools/list becomes one spend log
 * row, and a call that reached the upstream is charged its price to the caller's key, team, user and
 * organization. The master key's rows say `api_key: master` (LiteLLM logs its calls too); it has no
 * budget. The row goes into the writer's memory queue: nothing here waits on the store.
 */
export class SpendRecorder implements CallRecorder {
  constructor(
    private readonly servers: ServerSource,
    private readonly ledger: SpendLedger,
    private readonly writer: SpendWriter,
  ) {}

  applies(): boolean {
    return true;
  }

  async record(call: ToolCall, admitted: () => Promise<Result>): Promise<Result> {
    const notes: CallNotes = {};
    call[CALL_NOTES] = notes;
    const start = performance.now();
    const startTime = Date.now();
    let outcome: Outcome = 'error';
    try {
      const result = await admitted();
      outcome = notes.blocked !== undefined || isGuardrailBlock(result) ? 'blocked' : result.isError === true ? 'error' : 'ok';
      return result;
    } catch (err) {
      outcome = outcomeOf(err, notes);
      throw err;
    } finally {
      // Charged only when the upstream was reached: a refused call costs nothing.
      const cost = notes.upstreamMs !== undefined ? priceOf(this.servers.get(call.server)?.config, call.tool) : 0;
      if (cost > 0 && call.caller.identity) this.ledger.charge(call.caller, cost);
      this.writer.add(
        row(call.caller, 'call_mcp_tool', call.server, `${call.server}/${call.tool}`, outcome, startTime, start, notes.upstreamMs, cost),
      );
    }
  }

  /** Unknown to this caller, whether hidden by its grants or not there at all (one answer for both, on purpose): `denied`. */
  unresolved(caller: Caller, called: string, servers: readonly string[], started: number): void {
    const startTime = Date.now() - (performance.now() - started);
    this.writer.add(row(caller, 'call_mcp_tool', servers.join(','), called, 'denied', startTime, started, undefined, 0));
  }

  listed(caller: Caller, servers: readonly string[], started: number, failed = false): void {
    const startTime = Date.now() - (performance.now() - started);
    this.writer.add(row(caller, 'list_mcp_tools', servers.join(','), null, failed ? 'error' : 'ok', startTime, started, undefined, 0));
  }
}

function row(
  caller: Caller,
  callType: CallType,
  server: string,
  tool: string | null,
  outcome: Outcome,
  startTime: number,
  start: number,
  upstreamMs: number | undefined,
  spend: number,
): SpendRow {
  const id = caller.identity;
  const total = performance.now() - start;
  return {
    request_id: randomUUID(),
    start_time: new Date(startTime).toISOString(),
    end_time: new Date(startTime + total).toISOString(),
    api_key: id?.token ?? 'master',
    key_alias: id?.keyAlias ?? null,
    team_id: id?.teamId ?? null,
    user_id: id?.userId ?? null,
    organization_id: id?.organizationId ?? null,
    server,
    tool,
    call_type: callType,
    outcome,
    upstream_ms: upstreamMs ?? null,
    total_ms: total,
    spend,
  };
}

function isGuardrailBlock(result: Result): boolean {
  if (result.isError !== true || !Array.isArray(result.content)) return false;
  const first = result.content[0] as { type?: unknown; text?: unknown } | undefined;
  return first?.type === 'text' && typeof first.text === 'string' && first.text.startsWith(GUARDRAIL_TEXT);
}

/** A refusal before the upstream is `denied` (access), `limited` or `over_budget`; anything else is an `error`. */
function outcomeOf(err: unknown, notes: CallNotes): Outcome {
  if (err instanceof LimitExceeded) return 'limited';
  if (err instanceof BudgetExceeded) return 'over_budget';
  if (err instanceof PolicyDenied) return 'denied';
  // A tool this caller may not see is refused as unknown (the same answer as a tool that does not exist).
  if (notes.upstreamMs === undefined && err instanceof McpError && err.code === ErrorCode.InvalidParams) return 'denied';
  return 'error';
}
