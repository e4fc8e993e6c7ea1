import { AdminCliError, call, permission, runNoun, table, type Subcommand } from '../admin-client.js';

/** `toolgate teams|orgs|users ...`: the people and groups that keys belong to. */
const grantOptions = { servers: { type: 'string' }, groups: { type: 'string' } } as const;

const TEAM_COLUMNS = ['team_id', 'team_alias', 'organization_id', 'members_with_roles', 'object_permission'];
const teams: Record<string, Subcommand> = {
  create: {
    usage: 'create [--id ID] [--alias A] [--org ORG] [--servers a,b] [--groups g1]',
    options: { id: { type: 'string' }, alias: { type: 'string' }, org: { type: 'string' }, ...grantOptions },
    async run(t, v) {
      const r = await call(t, 'POST', '/team/new', {
        team_id: v.id,
        team_alias: v.alias,
        organization_id: v.org,
        object_permission: permission(v),
      });
      return { json: r, text: table([r], TEAM_COLUMNS) };
    },
  },
  list: {
    usage: 'list',
    options: {},
    async run(t) {
      const r = await call(t, 'GET', '/team/list');
      return { json: r, text: table(r, TEAM_COLUMNS) };
    },
  },
  'add-member': {
    usage: 'add-member TEAM_ID USER_ID [--role user|admin]',
    options: { role: { type: 'string' } },
    async run(t, v, p) {
      if (p.length !== 2) throw new AdminCliError('name the team and the user: add-member TEAM_ID USER_ID');
      const r = await call(t, 'POST', '/team/member_add', { team_id: p[0], member: { user_id: p[1], role: v.role ?? 'user' } });
      return { json: r, text: table([r], TEAM_COLUMNS) };
    },
  },
};

const ORG_COLUMNS = ['organization_id', 'organization_alias', 'object_permission'];
const orgs: Record<string, Subcommand> = {
  create: {
    usage: 'create [--id ID] [--alias A] [--servers a,b] [--groups g1]',
    options: { id: { type: 'string' }, alias: { type: 'string' }, ...grantOptions },
    async run(t, v) {
      const r = await call(t, 'POST', '/organization/new', {
        organization_id: v.id,
        organization_alias: v.alias,
        object_permission: permission(v),
      });
      return { json: r, text: table([r], ORG_COLUMNS) };
    },
  },
  list: {
    usage: 'list',
    options: {},
    async run(t) {
      const r = await call(t, 'GET', '/organization/list');
      return { json: r, text: table(r, ORG_COLUMNS) };
    },
  },
};

const USER_COLUMNS = ['user_id', 'user_email', 'user_role', 'organization_id'];
const users: Record<string, Subcommand> = {
  create: {
    usage: 'create [--id ID] [--email E] [--role proxy_admin|internal_user|internal_user_viewer] [--no-key]',
    options: { id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, 'no-key': { type: 'boolean' } },
    async run(t, v) {
      const r = await call(t, 'POST', '/user/new', {
        user_id: v.id,
        user_email: v.email,
        user_role: v.role,
        auto_create_key: !v['no-key'],
      });
      const key = r.key ? `\nKey for this user (shown once): ${r.key}\n` : '';
      return { json: r, text: table([r], USER_COLUMNS) + key };
    },
  },
  list: {
    usage: 'list',
    options: {},
    async run(t) {
      const r = await call(t, 'GET', '/user/list?page_size=1000');
      return { json: r.users, text: table(r.users, USER_COLUMNS) };
    },
  },
};

export const teamsCommand = (argv: string[]) => runNoun('teams', teams, argv);
export const orgsCommand = (argv: string[]) => runNoun('orgs', orgs, argv);
export const usersCommand = (argv: string[]) => runNoun('users', users, argv);
