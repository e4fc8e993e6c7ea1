import type { Caller, CallerIdentity } from '../../caller/caller.js';
import type { LevelLimits } from '../../caller/identity.js';
import { onCancel } from '../../mcp/lazy-abort.js';
import type { Forward, PolicyHook, ToolCall } from '../hooks.js';
import { CountersUnavailable, type Admission, type CounterSpec, type Counters } from './counters.js';
import type { CurrentCaller } from './current-caller.js';
import { countersUnavailable, limitExceeded, type LimitLabel } from './messages.js';

type Result = Record<string, unknown>;

/** The counters one call takes, with what each enforces (same order). */
interface Checks {
  specs: CounterSpec[];
  labels: LimitLabel[];
  /** Whether any of them is a max_parallel_requests counter (a slot to release when the call settles). */
  parallel?: boolean;
}

/** `next(call)`, a synchronous throw (a budget refusal) as a rejection, as from an async function. */
function forward(next: Forward, call: ToolCall): Promise<Result> {
  try {
    return next(call);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The counters' own refusal to decide (fail closed) as the client's error; anything else as it is. */
const unavailable = (err: unknown): unknown => (err instanceof CountersUnavailable ? countersUnavailable() : err);

/** What a caller's limits mean on one server: counters for every call there, plus per tool. */
interface Plan {
  all: Checks;
  /** Per tool (the server's own name): `all` plus that tool's counters. */
  tools: Map<string, Checks>;
}

const EMPTY: Plan = { all: { specs: [], labels: [] }, tools: new Map() };

type Level = { id: string; owner: string; limits: LevelLimits };

/** The levels a key belongs to that carry limits; a team's (user's, organization's) counter is shared by all its keys. */
function levelsOf(identity: CallerIdentity): Level[] {
  const { key, team, user, organization } = identity.levels;
  const out: Level[] = [];
  if (key.limits) out.push({ id: 'key:' + identity.token, owner: `key ${identity.keyName}`, limits: key.limits });
  if (team?.limits && identity.teamId) out.push({ id: 'team:' + identity.teamId, owner: `team ${identity.teamId}`, limits: team.limits });
  if (user?.limits && identity.userId) out.push({ id: 'user:' + identity.userId, owner: `user ${identity.userId}`, limits: user.limits });
  if (organization?.limits && identity.organizationId) {
    out.push({ id: 'org:' + identity.organizationId, owner: `organization ${identity.organizationId}`, limits: organization.limits });
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function push(c: Checks, spec: CounterSpec, label: LimitLabel): void {
  c.specs.push(spec);
  c.labels.push(label);
}

function planFor(identity: CallerIdentity, server: string): Plan {
  const all: Checks = { specs: [], labels: [] };
  const perTool = new Map<string, Checks>();
  const prefix = server + '/';
  for (const { id, owner, limits } of levelsOf(identity)) {
    if (isCount(limits.rpm_limit)) push(all, { id: 'rpm|' + id, kind: 'rate', limit: limits.rpm_limit }, { field: 'rpm_limit', owner });
    if (isCount(limits.max_parallel_requests)) {
      push(all, { id: 'par|' + id, kind: 'parallel', limit: limits.max_parallel_requests }, { field: 'max_parallel_requests', owner });
    }
    const perServer = limits.mcp_rpm_limit?.[server];
    if (isCount(perServer)) {
      const on = `server "${server}"`;
      push(all, { id: `mcp|${id}|${server}`, kind: 'rate', limit: perServer }, { field: 'mcp_rpm_limit', owner, on });
    }
    for (const [name, rpm] of Object.entries(limits.mcp_tool_rpm_limit ?? {})) {
      if (!name.startsWith(prefix) || !isCount(rpm)) continue;
      const tool = name.slice(prefix.length);
      let c = perTool.get(tool);
      if (!c) perTool.set(tool, (c = { specs: [], labels: [] }));
      push(c, { id: `tool|${id}|${name}`, kind: 'rate', limit: rpm }, { field: 'mcp_tool_rpm_limit', owner, on: `tool "${name}"` });
    }
  }
  const tools = new Map<string, Checks>();
  for (const [tool, c] of perTool) tools.set(tool, { specs: [...all.specs, ...c.specs], labels: [...all.labels, ...c.labels] });
  all.parallel = all.specs.some((s) => s.kind === 'parallel');
  for (const c of tools.values()) c.parallel = all.parallel;
  return all.specs.length === 0 && tools.size === 0 ? EMPTY : { all, tools };
}

/**
 * The rate-limits stage: rpm_limit, max_parallel_requests, mcp_rpm_limit and mcp_tool_rpm_limit of
 * the key, its team, user and organization, all taken in one atomic acquire before the call goes on.
 * Counted: tools/call only (what reaches a third-party tool). Not limited: the master key, and keys
 * of proxy_admin users (as in LiteLLM).
 */
export class LimitsHook implements PolicyHook {
  readonly name = 'limits';
  /** Plans per resolved caller: a limit change drops the cached caller, and with it its plans. */
  private readonly plans = new WeakMap<Caller, Map<string, Plan>>();

  constructor(
    private readonly counters: Counters,
    /** The caller's limits as they are now (a session's caller is the one it was opened with). */
    private readonly current: CurrentCaller = (c) => c,
  ) {}

  applies(caller: Caller, server: string): boolean {
    return this.plan(this.current(caller), server) !== EMPTY;
  }

  call(call: ToolCall, next: Forward): Promise<Result> {
    const plan = this.plan(this.current(call.caller), call.server);
    const checks = plan.tools.get(call.tool) ?? plan.all;
    if (checks.specs.length === 0) return forward(next, call);
    let admission: Admission | Promise<Admission>;
    try {
      admission = this.counters.acquire(checks.specs);
    } catch (err) {
      return Promise.reject(unavailable(err));
    }
    // Memory counters decide at once: no promise to wait for (Redis's answer is one).
    if (!(admission instanceof Promise)) return this.admitted(admission, checks, call, next);
    return admission.then(
      (a) => this.admitted(a, checks, call, next),
      (err: unknown) => {
        throw unavailable(err);
      },
    );
  }

  private admitted(admission: Admission, checks: Checks, call: ToolCall, next: Forward): Promise<Result> {
    if (!admission.ok) {
      const spec = checks.specs[admission.index]!;
      return Promise.reject(limitExceeded(checks.labels[admission.index]!, admission.current, spec.limit, admission.retryAfterMs));
    }
    if (!checks.parallel) return forward(next, call);
    // An in-flight slot frees when the call settles, or as soon as the client cancels or goes away.
    const release = admission.release;
    const undo = onCancel(call.signal, release);
    const settled = () => {
      undo();
      release();
    };
    return forward(next, call).finally(settled);
  }

  private plan(caller: Caller, server: string): Plan {
    const identity = caller.identity;
    if (caller.isMaster || !identity || identity.admin) return EMPTY;
    let byServer = this.plans.get(caller);
    if (!byServer) this.plans.set(caller, (byServer = new Map()));
    let plan = byServer.get(server);
    if (!plan) byServer.set(server, (plan = planFor(identity, server)));
    return plan;
  }
}
