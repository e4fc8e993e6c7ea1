import { Client } from '@modelcontextprotocol/client';
import { api } from '../admin/api.js';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';
import type { EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';

/** A gateway in front of one priced server (`paid`: cheap 0.5 by default, dear 2, free 0) and one unpriced (`other`). */
export interface SpendRig {
  gw: TestGateway;
  paid: CatalogServer;
  store: Store;
  /** A new virtual key with these fields (key_alias, team_id, max_budget...); returns the key. */
  key(fields: Record<string, unknown>): Promise<string>;
  client(key: string, path?: string): Promise<Client>;
  /** The spend log rows matching a query, once there are at least `n`. */
  logs(query: string, n: number): Promise<any[]>;
  close(): Promise<void>;
}

/** The upstream credential of `paid`: it must never show in a log line, a row or an answer. */
export const UPSTREAM_CANARY = 'tg-canary-spend-upstream-5d1f0c';

export const PRICES_YAML = (url: string, other: string) => `
mcp_servers:
  paid:
    url: ${url}
    auth_type: bearer_token
    auth_value: ${UPSTREAM_CANARY}
    mcp_info:
      mcp_server_cost_info:
        default_cost_per_query: 0.5
        tool_name_to_cost_per_query: { dear: 2, free: 0 }
  other:
    url: ${other}
`;

export async function spendRig(engine: EngineRun, opts: { yaml?: string; store?: Store } = {}): Promise<SpendRig> {
  const paid = await startCatalogServer({ name: 'paid', tools: [tool('cheap'), tool('dear'), tool('free')] });
  const other = await startCatalogServer({ name: 'other', tools: [tool('plain')] });
  const store = opts.store ?? (await engine.open());
  const gw = await startTestGateway(PRICES_YAML(paid.url, other.url) + (opts.yaml ?? ''), {}, 0, { store });
  const clients: Client[] = [];
  return {
    gw,
    paid,
    store,
    async key(fields) {
      const r = await api(gw, 'POST', '/key/generate', fields);
      if (r.status !== 200) throw new Error(`key/generate: ${r.text}`);
      return r.json.key as string;
    },
    async client(key, path = '/mcp/paid') {
      const c = await connectClient(gw.mcpUrl(path), { key });
      clients.push(c);
      return c;
    },
    async logs(query, n) {
      return until(async () => {
        const r = await api(gw, 'GET', '/spend/logs?' + query);
        if (r.status !== 200) throw new Error(r.text);
        return r.json.data.length >= n ? (r.json.data as any[]) : undefined;
      }, `${n} spend rows for ${query}`);
    },
    async close() {
      for (const c of clients) await c.close().catch(() => {});
      await gw.close();
      if (!opts.store) await store.close();
      await paid.stop();
      await other.stop();
      await engine.cleanup();
    },
  };
}

/** Creates a team, user or organization through the management API; returns its id. */
export async function create(gw: TestGateway, path: string, body: Record<string, unknown>): Promise<string> {
  const r = await api(gw, 'POST', path, body);
  if (r.status !== 200) throw new Error(`${path}: ${r.text}`);
  return (r.json.team_id ?? r.json.user_id ?? r.json.organization_id) as string;
}
