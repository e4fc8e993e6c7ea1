import type { Caller } from '../caller/keys.js';
import type { ServerSource } from '../registry/registry.js';
import type { RoutePolicy } from '../router/route.js';
import { isObject, type McpError } from '../mcp/jsonrpc.js';
import { refusedParams, refusedTool, ServerPolicy } from './server-policy.js';
import { unknownTarget, type Target, type TargetKind } from '../mcp/target.js';
import { CALL_NOTES, type CallRecorder, type Forward, type PolicyHook, type ToolCall } from './hooks.js';

type Item = Record<string, unknown>;

/** Why a target is refused: unknown to this caller, hidden by the server's own tool filters, or arguments outside allowed_params. */
type Refusal = 'unknown' | 'filtered' | { extra: string[]; allowed: ReadonlySet<string> };

/** The field that names an item of each kind in a listing (what `Target.name` holds). */
const NAME_FIELD: Record<TargetKind, string> = { tool: 'name', prompt: 'name', resource: 'uri', template: 'uriTemplate', task: 'taskId' };

/**
 * The access decision, in one place: given the caller and a resolved target, whether the target is
 * visible in a listing and whether a request on it is admitted. Both routers resolve the target,
 * ask here, then forward; listing and calling go through the same `decide`, so they cannot disagree.
 *
 * Inputs: each server's own settings (ServerPolicy, rebuilt when the registry changes a server) and
 * the caller's grants (`caller.access`, resolved ahead of time by the identity snapshot).
 */
export class PolicyStage implements RoutePolicy {
  private readonly servers = new Map<string, ServerPolicy | undefined>();

  constructor(
    source: ServerSource,
    private readonly separator: string,
    /** The stages after access, in order (pinning, limits, budgets, guardrails): each wraps the next. */
    private readonly hooks: readonly PolicyHook[] = [],
    /** Sees every tools/call's outcome, refusals included (spend rows). */
    private readonly recorder?: CallRecorder,
  ) {
    for (const c of source.configs()) this.servers.set(c.name, ServerPolicy.for(c, separator));
    source.subscribe((e) => {
      if (e.type === 'removed') this.servers.delete(e.name);
      else this.servers.set(e.name, ServerPolicy.for(e.upstream.config, this.separator));
    });
  }

  /** The server's own settings; undefined when it has none. */
  server(name: string): ServerPolicy | undefined {
    return this.servers.get(name);
  }

  /** For naming (display names, descriptions) in the routers. */
  naming(name: string): ServerPolicy | undefined {
    return this.servers.get(name);
  }

  /** A tool hidden by the server's own allowed_tools/disallowed_tools is refused with the reason, not as unknown. */
  explainHidden(server: string, called: string, listed: readonly Item[]): McpError | undefined {
    const own = this.servers.get(server);
    if (!own) return undefined;
    for (const t of listed) {
      if (typeof t.name === 'string' && !own.allows(t.name) && own.names(called, t.name)) return refusedTool(called, server);
    }
    return undefined;
  }

  /** Whether the caller may use the server at all. A server it may not use is, to it, one that does not exist. */
  serverVisible(caller: Caller, server: string): boolean {
    const allowed = caller.access?.servers;
    return !allowed || allowed.has(server);
  }

  /**
   * The fast path: nothing on this server can be hidden from or refused to this caller, so its
   * traffic relays untouched. A server with no settings and a caller without tool grants on it.
   */
  untouched(caller: Caller, server: string): boolean {
    return (
      this.servers.get(server) === undefined &&
      !caller.access?.tools?.has(server) &&
      this.serverVisible(caller, server) &&
      !this.hooks.some((h) => h.applies(caller, server))
    );
  }

  /** Whether a tools/call must go through `call` (something checks or records it) even when `untouched`. */
  recorded(caller: Caller, server: string): boolean {
    return this.recorder?.applies(caller, server) === true;
  }

  /**
   * One tools/call through the whole pipeline: the recorder around everything, then the access
   * decision, then each hook that applies (in order), then `forward` to the upstream. A refusal at any
   * step is thrown before the upstream is reached.
   */
  call(t: ToolCall, forward: Forward): Promise<Record<string, unknown>> {
    const hooks = this.hooks.filter((h) => h.call !== undefined && h.applies(t.caller, t.server));
    const run = (i: number, c: ToolCall): Promise<Record<string, unknown>> =>
      i < hooks.length ? hooks[i]!.call!(c, (next) => run(i + 1, next)) : timed(c);
    // The recorder's notes get the upstream's own time (the row's upstream duration, and "it was reached").
    const timed = (c: ToolCall): Promise<Record<string, unknown>> => {
      // A hook that rebuilt the call without spreading it lost the symbol: the original call still has the notes.
      const notes = c[CALL_NOTES] ?? t[CALL_NOTES];
      if (!notes) return forward(c);
      const start = performance.now();
      return forward(c).finally(() => (notes.upstreamMs = performance.now() - start));
    };
    const admitted = async () => {
      this.admit(t.caller, { server: t.server, kind: 'tool', name: t.tool, arguments: t.arguments }, t.called);
      return run(0, t);
    };
    return this.recorder?.applies(t.caller, t.server) ? this.recorder.record(t, admitted) : admitted();
  }

  /** A client listed tools on these servers (a spend log row). */
  listed(caller: Caller, servers: readonly string[], started: number, failed?: boolean): void {
    this.recorder?.listed?.(caller, servers, started, failed);
  }

  /** An aggregate tools/call by a name no server in scope lists (a spend log row). */
  unresolved(caller: Caller, called: string, servers: readonly string[], started: number): void {
    this.recorder?.unresolved?.(caller, called, servers, started);
  }

  /** What a caller's listings depend on: its grants, plus whatever the hooks that rewrite listings depend on. */
  listingKey(caller: Caller): string {
    let key = caller.access?.fingerprint ?? 'all';
    for (const h of this.hooks) if (h.listingKey) key += '|' + h.listingKey(caller);
    return key;
  }

  /** undefined when admitted; otherwise the refusal to answer with. Without arguments, this is the listing decision. */
  decide(caller: Caller, t: Target, called = t.name): McpError | undefined {
    const r = this.refusal(caller, t);
    if (r === undefined) return undefined;
    if (r === 'unknown') return unknownTarget(t.kind, called);
    if (r === 'filtered') return refusedTool(called, t.server);
    return refusedParams(called, r.extra, r.allowed);
  }

  /** Whether `t` appears in this caller's listings (the decision without arguments). */
  visible(caller: Caller, t: Target): boolean {
    return this.refusal(caller, t.arguments ? { ...t, arguments: undefined } : t) === undefined;
  }

  /** Throws the refusal when `t` is not admitted for this caller. */
  admit(caller: Caller, t: Target, called?: string): void {
    const refusal = this.decide(caller, t, called);
    if (refusal) throw refusal;
  }

  /**
   * The decision itself, as a cheap value: listings decide on every item, and building an error
   * (with its stack) for each hidden one would cost more than the whole decision.
   */
  private refusal(caller: Caller, t: Target): Refusal | undefined {
    if (!this.serverVisible(caller, t.server)) return 'unknown';
    if (t.kind !== 'tool') return undefined;
    const own = this.servers.get(t.server);
    if (own && !own.allows(t.name)) return 'filtered';
    const granted = caller.access?.tools?.get(t.server);
    if (granted && !granted.has(t.name)) return 'unknown';
    const params = t.arguments && own?.allowedParams(t.name);
    if (params && t.arguments) {
      const extra = Object.keys(t.arguments).filter((k) => !params.allowed.has(k));
      if (extra.length > 0) return { extra, allowed: params.allowed };
    }
    return undefined;
  }

  /** One server's listing of one kind as this caller may see it (items without a name cannot be decided on and are kept). */
  filter(caller: Caller, server: string, kind: TargetKind, items: readonly Item[]): Item[] {
    if (this.untouched(caller, server)) return items as Item[];
    const field = NAME_FIELD[kind];
    let out = items.filter((it) => {
      const name = isObject(it) ? it[field] : undefined;
      return typeof name !== 'string' || this.visible(caller, { server, kind, name });
    });
    for (const h of this.hooks) if (h.list && h.applies(caller, server)) out = h.list(caller, server, kind, out);
    return out;
  }
}
