import type { Queryable } from '../store/types.js';
import type { WriterStats } from '../policy/spend/writer.js';
import { isKeyHash } from '../caller/key-format.js';
import { badRequest } from './http.js';
import { Where } from './where.js';
import { tokenOf, positiveInt } from './keys.js';
import { query, type AdminRoute } from './router.js';

type Row = Record<string, unknown>;

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A time bound: an ISO time, or a date (LiteLLM's `YYYY-MM-DD`; as an end, the whole day is included). */
function timeParam(q: URLSearchParams, name: string, end: boolean): string | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  const ms = Date.parse(DATE_ONLY.test(v) ? v + 'T00:00:00Z' : v);
  if (Number.isNaN(ms)) throw badRequest(name, 'expected a date (2026-12-01) or an ISO 8601 time (2026-12-01T10:00:00Z)');
  return new Date(end && DATE_ONLY.test(v) ? ms + DAY_MS : ms).toISOString();
}

/** api_key: the key (sk-...), its token, or `master` for the master key's rows. */
function apiKeyParam(v: string): string {
  if (v === 'master' || isKeyHash(v)) return v;
  return tokenOf(v, 'api_key');
}

/** A stored row under LiteLLM's spend log names (startTime, user, mcp_namespaced_tool_name...) beside Toolgate's own. */
function logView(r: Row): Row {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
  const ms = (v: unknown) => (v === null ? null : Math.round(Number(v) * 1000) / 1000);
  return {
    request_id: r.request_id,
    startTime: iso(r.start_time),
    endTime: iso(r.end_time),
    api_key: r.api_key,
    key_alias: r.key_alias,
    team_id: r.team_id,
    user: r.user_id,
    organization_id: r.organization_id,
    mcp_server_name: r.server,
    mcp_namespaced_tool_name: r.tool,
    call_type: r.call_type,
    outcome: r.outcome,
    upstream_ms: ms(r.upstream_ms),
    total_ms: ms(r.total_ms),
    spend: Number(r.spend),
  };
}

/**
 * `GET /spend/logs`: LiteLLM's filters (`api_key`, `user_id`, `team_id`, `start_date`, `end_date`) plus
 * `server`, `tool` (`server/tool` or the bare name), `request_id`, `call_type`, `outcome`; newest first,
 * `page` / `page_size` pages.
 */
export async function spendLogs(db: Queryable, q: URLSearchParams): Promise<unknown> {
  const where = new Where();
  const apiKey = q.get('api_key');
  if (apiKey) where.add('api_key = ?', apiKeyParam(apiKey));
  where.equals(q, [
    ['user_id', 'user_id'],
    ['team_id', 'team_id'],
    ['organization_id', 'organization_id'],
    ['request_id', 'request_id'],
    ['call_type', 'call_type'],
    ['outcome', 'outcome'],
  ]);
  const server = q.get('server');
  // An aggregate listing's row names all its servers.
  if (server) where.add(`? = ANY(string_to_array(server, ','))`, server);
  const tool = q.get('tool');
  // `server/tool`, or the bare tool name (which may itself hold a `/`: everything after the server's).
  if (tool) where.add(`(tool = ? OR substr(tool, strpos(tool, '/') + 1) = ?)`, tool);
  const start = timeParam(q, 'start_date', false);
  if (start) where.add('start_time >= ?::timestamptz', start);
  const end = timeParam(q, 'end_date', true);
  if (end) where.add('start_time < ?::timestamptz', end);
  const page = positiveInt(q, 'page', 1);
  const size = positiveInt(q, 'page_size', 50, 1000);
  const filter = where.sql;
  const params = where.params;
  const [{ n }] = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM toolgate_spend_logs ${filter}`, params);
  const rows = await db.query(
    `SELECT * FROM toolgate_spend_logs ${filter} ORDER BY start_time DESC, id DESC LIMIT ${size} OFFSET ${(page - 1) * size}`,
    params,
  );
  const total = Number(n);
  return { data: rows.map(logView), total, page, page_size: size, total_pages: Math.max(1, Math.ceil(total / size)) };
}

/** The spend routes, admin only: the logs, and the writer's health (queued, written, dropped rows, soft alerts). */
export function spendRoutes(stats: () => WriterStats): { routes: AdminRoute[]; prefixes: string[] } {
  return {
    routes: [
      { method: 'GET', path: '/spend/logs', handler: query((ctx, q) => spendLogs(ctx.store, q)) },
      { method: 'GET', path: '/spend/health', handler: query(async () => stats()) },
    ],
    prefixes: ['/spend/'],
  };
}
