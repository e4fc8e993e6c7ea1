import { AdminCliError, call, one, permission, runNoun, table, type Subcommand } from '../admin-client.js';

const COLUMNS = ['key_name', 'key_alias', 'team_id', 'user_id', 'expires', 'blocked', 'token'];

const verbs: Record<string, Subcommand> = {
  create: {
    usage: 'create [--alias A] [--team T] [--user U] [--duration 30d] [--servers a,b] [--groups g1,g2]',
    options: {
      alias: { type: 'string' },
      team: { type: 'string' },
      user: { type: 'string' },
      duration: { type: 'string' },
      servers: { type: 'string' },
      groups: { type: 'string' },
    },
    async run(t, v) {
      const k = await call(t, 'POST', '/key/generate', {
        key_alias: v.alias,
        team_id: v.team,
        user_id: v.user,
        duration: v.duration,
        object_permission: permission(v),
      });
      return { json: k, text: `${k.key}\n\nThis is the only time the key is shown; store it now. Token: ${k.token}\n` };
    },
  },
  list: {
    usage: 'list [--team T] [--user U]',
    options: { team: { type: 'string' }, user: { type: 'string' } },
    async run(t, v) {
      const q = new URLSearchParams({ return_full_object: 'true', size: '1000' });
      if (v.team) q.set('team_id', String(v.team));
      if (v.user) q.set('user_id', String(v.user));
      const r = await call(t, 'GET', `/key/list?${q}`);
      return { json: r.keys, text: table(r.keys, COLUMNS) };
    },
  },
  info: {
    usage: 'info KEY|TOKEN',
    options: {},
    async run(t, _v, p) {
      const r = await call(t, 'GET', `/key/info?key=${encodeURIComponent(one(p, 'key or token'))}`);
      return { json: r.info, text: table([r.info], [...COLUMNS, 'object_permission']) };
    },
  },
  block: {
    usage: 'block KEY|TOKEN',
    options: {},
    async run(t, _v, p) {
      const r = await call(t, 'POST', '/key/block', { key: one(p, 'key or token') });
      return { json: r, text: `blocked ${r.key_name} (${r.token})\n` };
    },
  },
  revoke: {
    usage: 'revoke KEY|TOKEN ... (deletes the keys)',
    options: {},
    async run(t, _v, p) {
      if (p.length === 0) throw new AdminCliError('name at least one key or token');
      const r = await call(t, 'POST', '/key/delete', { keys: p });
      return { json: r, text: `revoked ${r.deleted_keys.length} key(s)\n` };
    },
  },
};

export const keysCommand = (argv: string[]) => runNoun('keys', verbs, argv);
