import type { Caller } from '../caller/caller.js';
import type { TargetKind } from '../mcp/target.js';

type Result = Record<string, unknown>;
type Item = Record<string, unknown>;

/** One tools/call as the policy sees it, once the router resolved the name back to the server's own. */
export interface ToolCall {
  caller: Caller;
  server: string;
  /** The server's own tool name. */
  tool: string;
  /** The name the client called (namespaced on `/mcp`, a display name, or the tool's own). */
  called: string;
  arguments?: Record<string, unknown>;
  /** Aborted when the client cancels or goes away. */
  signal: AbortSignal;
}

/** Forwards the (possibly rewritten) call to the upstream and returns its result. */
export type Forward = (call: ToolCall) => Promise<Result>;

/**
 * A stage of the policy pipeline beyond access (limits, budgets, guardrails, pinning, recording).
 * Every hook is asked `applies` first, so a caller and server with nothing to check keep the relay's
 * fast path. A hook refuses by throwing an McpError (LimitExceeded, BudgetExceeded, PolicyDenied...),
 * answers in the upstream's place by returning a result without calling `next`, or inspects and
 * rewrites the call on the way in and the result on the way out.
 *
 * A guardrail block is a result, not a throw: `{isError: true, content: [{type: 'text', text:
 * 'Guardrail violation - <name>: <reason>'}]}`. A recorder tells it from an upstream's error result with
 * `isGuardrailBlock(result)` (policy/guardrails/block.ts; the same object reaches the recorder), the
 * outcome being `blocked`; the text prefix `GUARDRAIL_VIOLATION` is the fallback for anything that copied it.
 */
export interface PolicyHook {
  readonly name: string;
  /** Whether this hook has anything to do for this caller on this server. Called on every request: keep it cheap. */
  applies(caller: Caller, server: string): boolean;
  /** Around one tools/call, after the access decision admitted it. */
  call?(call: ToolCall, next: Forward): Promise<Result>;
  /**
   * One server's listing of one kind, after the access filter: hide or rewrite items (a copy; never
   * mutate). Synchronous because listings are cached views: the result may depend only on what
   * `listingKey` says it depends on.
   */
  list?(caller: Caller, server: string, kind: TargetKind, items: readonly Item[]): Item[];
  /** What `list` depends on for this caller beyond its grants (e.g. its guardrails), for the listing cache key; '' for nothing. */
  listingKey?(caller: Caller): string;
}

/**
 * The outermost hook: it sees every tools/call, refusals by the access decision included, so a
 * recorder (spend rows, audit) can count each outcome (ok, error, denied, limited, ...).
 */
export interface CallRecorder {
  applies(caller: Caller, server: string): boolean;
  /** Runs `admitted` (the access decision, then the other hooks and the upstream) and records what came of it. */
  record(call: ToolCall, admitted: () => Promise<Result>): Promise<Result>;
}
