import type { Caller } from '../caller/caller.js';
import type { PolicyStage } from '../policy/stage.js';
import type { ServerRegistry } from '../registry/registry.js';

/** Upstream pages followed for one listing at most (a server whose cursor chain never ends). */
const MAX_PAGES = 100;

/**
 * `GET /v1/mcp/tools`: the tools of the given servers as this caller may see them (the same policy
 * filter as MCP listings), each with LiteLLM's `mcp_info` naming its server. A server that cannot be
 * listed is reported beside the tools, not as a failure of the whole answer.
 */
export async function listTools(
  registry: ServerRegistry,
  policy: PolicyStage,
  caller: Caller,
  names: readonly string[],
  idOf: (name: string) => string,
): Promise<{ tools: Record<string, unknown>[]; errors: { server_name: string; message: string }[] }> {
  const tools: Record<string, unknown>[] = [];
  const errors: { server_name: string; message: string }[] = [];
  await Promise.all(
    names.map(async (name) => {
      const upstream = registry.get(name);
      if (!upstream) return;
      try {
        const session = await upstream.sharedSession({});
        const items: Record<string, unknown>[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const r = await session.request('tools/list', cursor ? { cursor } : undefined);
          items.push(...((r.tools as Record<string, unknown>[] | undefined) ?? []));
          cursor = typeof r.nextCursor === 'string' ? r.nextCursor : undefined;
          if (!cursor) break;
        }
        for (const t of policy.filter(caller, name, 'tool', items))
          tools.push({ ...t, mcp_info: { server_name: name, server_id: idOf(name) } });
      } catch (err) {
        errors.push({ server_name: name, message: upstream.redactor.redact((err as Error).message) });
      }
    }),
  );
  return { tools, errors };
}
