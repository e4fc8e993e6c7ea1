import { AdminCliError, call, one, runNoun, table, type AdminTarget, type Answer, type Subcommand } from './admin-client.js';
import { SERVER_OPTIONS, SERVER_USAGE, serverBody } from './servers-request.js';

const COLUMNS = ['server_id', 'server_name', 'transport', 'url', 'command', 'auth_type', 'source'];
const path = (id: string) => `/v1/mcp/server/${encodeURIComponent(id)}`;

/** A stored server's id from its id or name (the API's writes take the id). */
async function resolve(t: AdminTarget, ref: string): Promise<Answer> {
  return call(t, 'GET', path(ref));
}

function health(s: Answer): string {
  return `${s.server_name}: ${s.status}${s.health_check_error ? ` (${s.health_check_error})` : ''}\n`;
}

const verbs: Record<string, Subcommand> = {
  add: {
    usage: `add NAME ${SERVER_USAGE}`,
    options: { ...SERVER_OPTIONS, id: { type: 'string' } },
    async run(t, v, p) {
      const body = { ...serverBody(v), server_name: one(p, 'server name'), ...(v.id ? { server_id: v.id } : {}) };
      const s = await call(t, 'POST', '/v1/mcp/server', body);
      return { json: s, text: `added ${s.server_name} (server_id ${s.server_id})\n` };
    },
  },
  list: {
    usage: 'list',
    options: {},
    async run(t) {
      const r = await call(t, 'GET', '/v1/mcp/server');
      return { json: r, text: table(r, COLUMNS) };
    },
  },
  show: {
    usage: 'show ID|NAME (with a live health check)',
    options: {},
    async run(t, _v, p) {
      const s = await resolve(t, one(p, 'server id or name'));
      return { json: s, text: table([s], [...COLUMNS, 'status', 'health_check_error']) };
    },
  },
  update: {
    usage: `update ID|NAME [--name NEW_NAME] ${SERVER_USAGE}`,
    options: { ...SERVER_OPTIONS, name: { type: 'string' } },
    async run(t, v, p) {
      const current = await resolve(t, one(p, 'server id or name'));
      const body = { ...serverBody(v), server_id: current.server_id, ...(v.name ? { server_name: v.name } : {}) };
      const s = await call(t, 'PUT', '/v1/mcp/server', body);
      return { json: s, text: `updated ${s.server_name} (server_id ${s.server_id})\n` };
    },
  },
  remove: {
    usage: 'remove ID|NAME',
    options: {},
    async run(t, _v, p) {
      const current = await resolve(t, one(p, 'server id or name'));
      const r = await call(t, 'DELETE', path(current.server_id), undefined);
      return { json: r, text: `removed ${r.server_name} (server_id ${r.server_id})\n` };
    },
  },
  test: {
    usage: `test ID|NAME, or test ${SERVER_USAGE} (a server not saved yet)`,
    options: SERVER_OPTIONS,
    async run(t, v, p) {
      if (p.length > 0) {
        const s = await resolve(t, one(p, 'server id or name'));
        if (s.status !== 'healthy') throw new AdminCliError(health(s).trimEnd());
        return { json: s, text: health(s) };
      }
      const r = await call(t, 'POST', '/mcp-rest/test/connection', { server_name: 'connection_test', ...serverBody(v) });
      if (r.status && r.status !== 'success' && r.status !== 'healthy')
        throw new AdminCliError(`connection test failed: ${r.message ?? r.error ?? r.status}`);
      return { json: r, text: `connection test: ${r.status ?? 'ok'}${r.message ? ` (${r.message})` : ''}\n` };
    },
  },
};

export const serversCommand = (argv: string[]) => runNoun('servers', verbs, argv);
