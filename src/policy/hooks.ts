import type { Caller } from '../caller/caller.js';
import type { Cancel } from '../mcp/lazy-abort.js';
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
  /** The client asked for a task (2025-11-25 `params.task`): the result comes later, through tasks/result. */
  asTask?: boolean;
  /** Fires when the client cancels or goes away. */
  signal: Cancel;
  /**
   * What the stages learned about this call, for the recorder (set by the recorder, shared by the
   * copies hooks make with `{...call}`: a symbol-keyed property survives the spread).
   */
  [CALL_NOTES]?: CallNotes;
}

/**
 * The key of a ToolCall's notes. A guardrail hook that blocks a call (its result `isError` with
 * "Guardrail violation - <name>: <reason>") sets `call[CALL_NOTES].blocked = '<name>'` so the spend
 * row says `blocked`; the recorder also recognises that text, so a hook that does not set it is still counted.
 */
export const CALL_NOTES = Symbol('toolgate.callNotes');

export interface CallNotes {
  /** Milliseconds the upstream took (PolicyStage measures `forward`); absent when the call never reached it. */
  upstreamMs?: number;
  /** The guardrail that blocked the call. */
  blocked?: string;
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
  /** A client listed tools (`tools/list`) on these servers (one passthrough server, or an aggregate's), begun at `started` (performance.now()). */
  listed?(caller: Caller, servers: readonly string[], started: number, failed?: boolean): void;
  /** A tools/call on `/mcp` naming a tool no server in scope lists (refused as unknown, before any server). */
  unresolved?(caller: Caller, called: string, servers: readonly string[], started: number): void;
}
