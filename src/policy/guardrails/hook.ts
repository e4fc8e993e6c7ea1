import type { Logger } from 'pino';
import { McpError } from '../../mcp/jsonrpc.js';
import type { Caller } from '../../caller/caller.js';
import type { GuardrailConfig, GuardrailMode } from '../../config/types.js';
import type { TargetKind } from '../../mcp/target.js';
import type { Cancel } from '../../mcp/lazy-abort.js';
import type { Forward, PolicyHook, ToolCall } from '../hooks.js';
import { actorOf, type Alerts } from './alerts.js';
import { guardrailBlock } from './block.js';
import { Guardrail, type CheckContext } from './guardrail.js';
import { runDuring } from './during.js';
import type { Subject, Verdict } from './verdict.js';
import type { ToolObserver } from '../pins/observer.js';

type Result = Record<string, unknown>;
type Item = Record<string, unknown>;

const TASK_REFUSED = 'results of this call are checked, so it cannot run as a task; call it without `task`';

/** A CreateTaskResult: 2026-07-28 `{resultType: 'task', taskId}`, 2025-11-25 `{task: {taskId}}`. */
function isTaskResult(result: Result): boolean {
  const task = result.task;
  return result.resultType === 'task' || (typeof task === 'object' && task !== null && 'taskId' in task);
}

/** A caller's guardrails by what they check at call time, worked out once per caller. */
interface CallPlan {
  pre: Guardrail[];
  during: Guardrail[];
  post: Guardrail[];
  /** The first that checks the outcome (post or during): a task's result would pass it by. */
  checksOutcome?: Guardrail;
  /** No webhook and nothing during the call: every check can run without a promise of its own. */
  inline: boolean;
  /** Some pre guardrail also checks the tool's description as its server lists it. */
  describes: boolean;
}

/** Listing alerts already raised (server, tool, guardrail, text): a cached listing rebuilt is not a new alert. */
const MAX_SEEN = 10_000;

/**
 * The guardrail stage: the caller's guardrails (every `default_on` one, plus those its key and team
 * name) check tool arguments before the call (`pre_mcp_call`), beside it (`during_mcp_call`, which
 * cancels the upstream call on a block) and the result after it (`post_mcp_call`); `pre_mcp_call`
 * built-in guardrails also check tool descriptions in listings.
 */
export class GuardrailHook implements PolicyHook {
  readonly name = 'guardrails';
  private readonly all: Guardrail[];
  private readonly byName: Map<string, Guardrail>;
  private readonly defaults: Guardrail[];
  private readonly perCaller = new WeakMap<Caller, Guardrail[]>();
  private readonly plans = new WeakMap<Guardrail[], CallPlan>();
  private readonly seen = new Set<string>();
  /** Per listed tool object and guardrail: whether its description is blocked (checked once per object). */
  private readonly verdicts = new WeakMap<Item, Map<Guardrail, boolean>>();

  constructor(
    configs: readonly GuardrailConfig[],
    private readonly alerts: Alerts,
    private readonly log: Logger,
    /** What each upstream lists now: a call to a tool whose description a guardrail blocks is blocked too. */
    private readonly observer?: ToolObserver,
  ) {
    const warn = (guardrail: string, reason: string) => log.warn({ guardrail, reason }, 'guardrail webhook gave no verdict');
    this.all = configs.map((c) => new Guardrail(c, warn));
    this.byName = new Map(this.all.map((g) => [g.name, g]));
    this.defaults = this.all.filter((g) => g.defaultOn);
  }

  /** The caller's guardrails in config order: default_on ones and those its key or team names (unknown names are skipped). */
  guardrailsOf(caller: Caller): Guardrail[] {
    let set = this.perCaller.get(caller);
    if (set) return set;
    const levels = caller.identity?.levels;
    const named = new Set([...(levels?.key.guardrails ?? []), ...(levels?.team?.guardrails ?? [])]);
    for (const n of named) if (!this.byName.has(n)) this.log.debug({ guardrail: n }, 'a key or team names a guardrail not in config.yaml');
    set = this.all.filter((g) => g.defaultOn || named.has(g.name));
    this.perCaller.set(caller, set);
    return set;
  }

  applies(caller: Caller): boolean {
    return this.defaults.length > 0 || this.guardrailsOf(caller).length > 0;
  }

  call(call: ToolCall, next: Forward): Promise<Result> {
    const p = this.planOf(this.guardrailsOf(call.caller));
    // A task's result comes back through tasks/result or tasks/get, past this hook: a call whose
    // result (or arguments, beside it) is checked must run inline, so its content is checked too.
    if (call.asTask && p.checksOutcome) return Promise.resolve(this.blocked(p.checksOutcome, TASK_REFUSED, 'post_mcp_call', call));
    // Built-in rules only, and the tool's listing (if read) already known: the same checks, in the same
    // order, without awaiting each one.
    const listed = p.describes && this.observer ? this.observer.fresh(call.server, call.tool) : { tool: undefined };
    if (!p.inline || !listed) return this.checked(call, next, p);
    let c = call;
    for (const g of p.pre) {
      if (g.checksListings && listed.tool && this.blockedTool(g, listed.tool)) {
        return Promise.resolve(this.blocked(g, 'the tool description failed this guardrail', 'pre_mcp_call', c));
      }
      const v = g.checkNow('tool_arguments', c.arguments);
      if (v.action === 'block') return Promise.resolve(this.blocked(g, v.reason, 'pre_mcp_call', c));
      if (v.action === 'mask') c = { ...c, arguments: v.value as Record<string, unknown> };
    }
    const post = p.post;
    let upstream: Promise<Result>;
    try {
      upstream = next(c);
    } catch (err) {
      upstream = Promise.reject(err);
    }
    if (post.length === 0) return upstream;
    return upstream.then(
      (result) => this.postNow(post, result, c),
      (err: unknown) => {
        // An upstream's error message reaches the client too: the post checks read it.
        if (!(err instanceof McpError)) throw err;
        return this.checkError(err, post, c, this.ctx('post_mcp_call', c));
      },
    );
  }

  /** The post checks of built-in guardrails on a result, in order. */
  private postNow(post: readonly Guardrail[], result: Result, c: ToolCall): Result {
    for (const g of post) {
      // A server that made a task of the call anyway (2026-07-28 servers decide): its handle is not passed on.
      if (isTaskResult(result)) return this.blocked(g, TASK_REFUSED, 'post_mcp_call', c);
      const v = g.checkNow('tool_result', result);
      if (v.action === 'block') return this.blocked(g, v.reason, 'post_mcp_call', c);
      if (v.action === 'mask') result = v.value as Result;
    }
    return result;
  }

  private planOf(gs: Guardrail[]): CallPlan {
    let p = this.plans.get(gs);
    if (!p) {
      const during = gs.filter((g) => g.modes.has('during_mcp_call'));
      const pre = gs.filter((g) => g.modes.has('pre_mcp_call'));
      p = {
        pre,
        during,
        post: gs.filter((g) => g.modes.has('post_mcp_call')),
        checksOutcome: gs.find((g) => g.modes.has('post_mcp_call') || g.modes.has('during_mcp_call')),
        inline: during.length === 0 && gs.every((g) => g.builtIn),
        describes: pre.some((g) => g.checksListings),
      };
      this.plans.set(gs, p);
    }
    return p;
  }

  private ctx(mode: GuardrailMode, c: ToolCall): CheckContext {
    return {
      mode,
      server: c.server,
      tool: c.tool,
      keyAlias: c.caller.identity?.keyAlias,
      teamId: c.caller.identity?.teamId,
      signal: c.signal,
    };
  }

  /** The call with each check awaited: webhooks, during_mcp_call, or a tool listing to wait for. */
  private async checked(call: ToolCall, next: Forward, p: CallPlan): Promise<Result> {
    const ctx = (mode: GuardrailMode, c: ToolCall): CheckContext => this.ctx(mode, c);
    let c = call;
    for (const g of p.pre) {
      if (g.checksListings && (await this.descriptionBlocked(g, c))) {
        return this.blocked(g, 'the tool description failed this guardrail', 'pre_mcp_call', c);
      }
      const v = await g.check('tool_arguments', c.arguments, ctx('pre_mcp_call', c));
      if (v.action === 'block') return this.blocked(g, v.reason, 'pre_mcp_call', c);
      if (v.action === 'mask') c = { ...c, arguments: v.value as Record<string, unknown> };
    }
    const { during, post } = p;
    let result: Result;
    try {
      if (during.length === 0) result = await next(c);
      else {
        const checks = (signal: Cancel) =>
          during.map((g) => g.check('tool_arguments', c.arguments, { ...ctx('during_mcp_call', c), signal }).then((v) => ({ g, v })));
        const out = await runDuring(c, next, checks);
        if ('blocked' in out) return this.blocked(out.blocked.g, out.blocked.reason, 'during_mcp_call', c);
        result = out.result;
      }
    } catch (err) {
      // An upstream's error message reaches the client too: the post checks read it.
      if (!(err instanceof McpError) || post.length === 0) throw err;
      return this.checkError(err, post, c, ctx('post_mcp_call', c));
    }
    for (const g of post) {
      // A server that made a task of the call anyway (2026-07-28 servers decide): its handle is not passed on.
      if (isTaskResult(result)) return this.blocked(g, TASK_REFUSED, 'post_mcp_call', c);
      const v: Verdict = await g.check('tool_result' satisfies Subject, result, ctx('post_mcp_call', c));
      if (v.action === 'block') return this.blocked(g, v.reason, 'post_mcp_call', c);
      if (v.action === 'mask') result = v.value as Result;
    }
    return result;
  }

  list(caller: Caller, server: string, kind: TargetKind, items: readonly Item[]): Item[] {
    if (kind !== 'tool') return items as Item[];
    const gs = this.guardrailsOf(caller).filter((g) => g.checksListings);
    if (gs.length === 0) return items as Item[];
    this.observer?.observe(server, items, false);
    const out: Item[] = [];
    for (const item of items) {
      let tool: Item | undefined = item;
      for (const g of gs) {
        const v = g.checkTool(tool);
        if (v.action === 'allow') continue;
        this.descriptionAlert(
          caller,
          server,
          tool,
          g,
          v.action === 'block' ? 'hidden' : 'masked',
          v.action === 'block' ? v.reason : undefined,
        );
        if (v.action === 'block') {
          tool = undefined;
          break;
        }
        tool = v.value as Item;
      }
      if (tool) out.push(tool);
    }
    return out;
  }

  /** Listings depend on which of the caller's guardrails check descriptions. */
  listingKey(caller: Caller): string {
    return this.guardrailsOf(caller)
      .filter((g) => g.checksListings)
      .map((g) => g.name)
      .join(',');
  }

  /** Whether the tool, as its server lists it now, has a description this guardrail blocks (a listing that fails: no). */
  private async descriptionBlocked(g: Guardrail, c: ToolCall): Promise<boolean> {
    const tool = await this.observer?.current(c.server, c.tool).catch(() => undefined);
    if (!tool) return false;
    return this.blockedTool(g, tool);
  }

  /** Whether this guardrail blocks the listed tool's description (checked once per tool object). */
  private blockedTool(g: Guardrail, tool: Item): boolean {
    let byGuardrail = this.verdicts.get(tool);
    if (!byGuardrail) this.verdicts.set(tool, (byGuardrail = new Map()));
    let blocked = byGuardrail.get(g);
    if (blocked === undefined) byGuardrail.set(g, (blocked = g.checkTool(tool).action === 'block'));
    return blocked;
  }

  /** An upstream error through the post checks: a block answers in its place, a mask rethrows it masked. */
  private async checkError(err: McpError, post: readonly Guardrail[], c: ToolCall, ctx: CheckContext): Promise<Result> {
    let message = err.message;
    let data = err.data;
    for (const g of post) {
      const asResult = {
        isError: true,
        content: [{ type: 'text', text: message }],
        ...(data !== undefined ? { structuredContent: data } : {}),
      };
      const v = await g.check('tool_result', asResult, ctx);
      if (v.action === 'block') return this.blocked(g, v.reason, 'post_mcp_call', c);
      if (v.action !== 'mask') continue;
      const m = v.value as { content?: Array<{ text?: unknown }>; structuredContent?: unknown };
      const text = m.content?.[0]?.text;
      message = typeof text === 'string' ? text : message;
      data = m.structuredContent;
    }
    if (message === err.message && data === err.data) throw err;
    throw new McpError(err.code, message, data);
  }

  private blocked(g: Guardrail, reason: string, mode: GuardrailMode, c: ToolCall): Result {
    this.alerts.raise(
      {
        actor: actorOf(c.caller),
        action: 'guardrail_blocked',
        objectType: 'mcp_tool',
        objectId: `${c.server}/${c.tool}`,
        after: { guardrail: g.name, mode, reason, key_name: c.caller.identity?.keyName, team_id: c.caller.identity?.teamId },
      },
      'guardrail blocked a tool call',
      { guardrail: g.name, mode, reason, server: c.server, tool: c.tool, key: c.caller.keyId },
    );
    return guardrailBlock(g.name, reason);
  }

  private descriptionAlert(caller: Caller, server: string, tool: Item, g: Guardrail, outcome: 'hidden' | 'masked', reason?: string): void {
    const key = `${server}\0${String(tool.name)}\0${g.name}\0${String(tool.description)}\0${JSON.stringify(tool.inputSchema ?? null)}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(key);
    this.alerts.raise(
      {
        actor: actorOf(caller),
        action: 'mcp_tool_description_blocked',
        objectType: 'mcp_tool',
        objectId: `${server}/${String(tool.name)}`,
        after: { guardrail: g.name, outcome, ...(reason ? { reason } : {}) },
      },
      `a tool description failed guardrail ${g.name}: the tool is ${outcome} in listings`,
      { guardrail: g.name, server, tool: tool.name, outcome },
    );
  }
}
