import { isObject } from '../mcp/jsonrpc.js';
import type { ClientProfile } from '../upstream/lease.js';
import { TOOLGATE_VERSION } from '../version.js';
import type { AggregateCatalog } from './aggregate-catalog.js';
import { TASKS_EXTENSION } from './tasks.js';

type Result = Record<string, unknown>;

/**
 * The aggregate's answer to `initialize`: the union of what the servers in scope offer (each
 * kind with listChanged, since the catalog announces changes itself) and their instructions.
 */
export async function aggregateInitialize(shared: AggregateCatalog, servers: readonly string[], profile: ClientProfile): Promise<Result> {
  const { settings, log } = shared.deps;
  const described = await Promise.allSettled(
    servers.map((s) => {
      const upstream = shared.deps.servers.get(s);
      if (!upstream) return Promise.reject(new Error(`server "${s}" was removed`));
      return withTimeout(
        upstream.describe(profile.capabilities, profile.pooled === true),
        settings.listingTimeoutMs,
        `upstream "${s}" did not initialize in time`,
      );
    }),
  );
  const caps: Result = {};
  const instructions: string[] = [];
  described.forEach((d, i) => {
    const name = servers[i]!;
    if (d.status === 'rejected') {
      log.warn({ server: name, err: (d.reason as Error).message }, 'aggregate initialize: server unavailable');
      // Its tools appear when it comes back (announced by list_changed); a client told there are
      // no tools at all would never list them for the rest of its session.
      caps.tools = { listChanged: true };
      return;
    }
    const c = isObject(d.value.capabilities) ? d.value.capabilities : {};
    if ('tools' in c) caps.tools = { listChanged: true };
    if ('prompts' in c) caps.prompts = { listChanged: true };
    if ('resources' in c) {
      const sub = isObject(c.resources) && c.resources.subscribe === true;
      caps.resources = { listChanged: true, subscribe: sub || (isObject(caps.resources) && caps.resources.subscribe === true) };
    }
    if ('logging' in c) caps.logging = {};
    if ('completions' in c) caps.completions = {};
    mergeTaskCapabilities(caps, c);
    const override = shared.config(name)?.instructions;
    const text = override ?? (typeof d.value.instructions === 'string' ? d.value.instructions : undefined);
    if (text) instructions.push(`[${name}]\n${text}`);
  });
  // An aggregate over every server hears of servers added later: it must offer tools to list then.
  if (servers.length === 0) caps.tools = { listChanged: true };
  const result: Result = { capabilities: caps, serverInfo: { name: 'toolgate', version: TOOLGATE_VERSION } };
  if (instructions.length) result.instructions = instructions.join('\n\n---\n\n');
  return result;
}

/** 2025 experimental tasks merge as the union of what the servers offer; the 2026 extension if any server has it. */
function mergeTaskCapabilities(into: Result, c: Result): void {
  if (isObject(c.tasks)) {
    const t = isObject(into.tasks) ? into.tasks : {};
    const merged: Result = { ...t };
    if (isObject(c.tasks.list)) merged.list = {};
    if (isObject(c.tasks.cancel)) merged.cancel = {};
    if (isObject(c.tasks.requests)) merged.requests = { ...(isObject(t.requests) ? t.requests : {}), ...c.tasks.requests };
    into.tasks = merged;
  }
  if (isObject(c.extensions) && isObject(c.extensions[TASKS_EXTENSION])) {
    into.extensions = { ...(isObject(into.extensions) ? into.extensions : {}), [TASKS_EXTENSION]: {} };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
