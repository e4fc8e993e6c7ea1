import { z } from 'zod';
import { parseDuration } from '../caller/key-format.js';
import { USER_ROLES } from '../caller/identity.js';
import { AdminError } from './http.js';

const names = z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' });

export const objectPermission = z
  .object({
    mcp_servers: names.optional(),
    mcp_access_groups: names.optional(),
    mcp_tool_permissions: z.record(z.string(), names, { error: 'expected {server: [tool, ...]}' }).optional(),
    // LiteLLM's non-MCP grants: accepted so LiteLLM scripts run, not acted on.
    vector_stores: z.array(z.string()).optional(),
    agents: z.array(z.string()).optional(),
  })
  .strict();

const count = z.number({ error: 'expected a number' }).int('must be a whole number').min(0, 'must be 0 or more').nullable();
const money = z.number({ error: 'expected a number' }).min(0, 'must be 0 or more').nullable();
const duration = z
  .string({ error: 'expected a duration such as "30s", "30m", "30h" or "30d"' })
  .refine((v) => parseDuration(v) !== undefined, 'expected a duration such as "30s", "30m", "30h" or "30d"');

/** Limit and budget fields: stored now, enforced by the limits stage. */
export const LIMIT_FIELDS = {
  rpm_limit: count.optional(),
  tpm_limit: count.optional(),
  max_parallel_requests: count.optional(),
  mcp_rpm_limit: z.record(z.string(), z.number().int().min(0), { error: 'expected {server: requests per minute}' }).nullable().optional(),
  // Toolgate's own: the server's own tool name after the slash (not the namespaced /mcp name).
  mcp_tool_rpm_limit: z
    .record(
      z.string().regex(/^[^/]+\/.+$/, 'keys must be "server/tool"'),
      z.number({ error: 'expected requests per minute' }).int('must be a whole number').min(0, 'must be 0 or more'),
      { error: 'expected {"server/tool": requests per minute}' },
    )
    .nullable()
    .optional(),
  max_budget: money.optional(),
  budget_duration: duration.nullable().optional(),
  soft_budget: money.optional(),
};
export const LIMIT_NAMES = Object.keys(LIMIT_FIELDS);

const metadata = z.record(z.string(), z.unknown(), { error: 'expected a JSON object' });
/** LiteLLM fields about models and routes: accepted so LiteLLM scripts run unchanged, ignored by an MCP gateway. */
const LLM_ONLY = {
  models: z.array(z.string()).optional(),
  aliases: z.record(z.string(), z.unknown()).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  permissions: z.record(z.string(), z.unknown()).optional(),
  allowed_routes: z.array(z.string()).optional(),
  send_invite_email: z.boolean().optional(),
  key_type: z.string().optional(),
  spend: z.number().optional(),
};

const keyFields = {
  key_alias: z.string().min(1, 'must not be empty').max(256).nullable().optional(),
  duration: duration.nullable().optional(),
  expires: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time, e.g. 2027-01-31T00:00:00Z' }).nullable().optional(),
  team_id: z.string().nullable().optional(),
  user_id: z.string().nullable().optional(),
  organization_id: z.string().nullable().optional(),
  metadata: metadata.optional(),
  blocked: z.boolean({ error: 'expected true or false' }).optional(),
  object_permission: objectPermission.nullable().optional(),
  tags: z.array(z.string()).optional(),
  guardrails: z.array(z.string()).optional(),
  ...LIMIT_FIELDS,
  ...LLM_ONLY,
};

export const keyGenerate = z.object({ key: z.string().optional(), ...keyFields }).strict();
export const keyUpdate = z.object({ key: z.string({ error: 'expected the key or its token' }), ...keyFields }).strict();
export const keyDelete = z.object({ keys: names.optional(), key_aliases: names.optional() }).strict();
export const keyRef = z.object({ key: z.string({ error: 'expected the key or its token' }) }).strict();
export const keyRegenerate = z
  .object({ key: z.string().optional(), new_key: z.string().optional(), grace_period: z.string().optional(), ...keyFields })
  .strict();

const member = z
  .object({
    user_id: z.string().optional(),
    user_email: z.string().optional(),
    role: z.enum(['admin', 'user'], { error: 'must be "admin" or "user"' }).default('user'),
  })
  .strict()
  .refine((m) => m.user_id !== undefined || m.user_email !== undefined, 'needs user_id or user_email');

const teamFields = {
  team_alias: z.string().nullable().optional(),
  organization_id: z.string().nullable().optional(),
  members_with_roles: z.array(member).optional(),
  object_permission: objectPermission.nullable().optional(),
  metadata: metadata.optional(),
  blocked: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  guardrails: z.array(z.string()).optional(),
  ...LIMIT_FIELDS,
  ...LLM_ONLY,
};
export const teamNew = z.object({ team_id: z.string().min(1).optional(), ...teamFields }).strict();
export const teamUpdate = z.object({ team_id: z.string({ error: 'expected the team_id' }), ...teamFields }).strict();
export const teamDelete = z.object({ team_ids: names }).strict();
export const teamMemberAdd = z
  .object({ team_id: z.string({ error: 'expected the team_id' }), member: z.union([member, z.array(member)]) })
  .strict();
export const teamMemberDelete = z
  .object({ team_id: z.string({ error: 'expected the team_id' }), user_id: z.string().optional(), user_email: z.string().optional() })
  .strict();

const orgFields = {
  organization_alias: z.string().nullable().optional(),
  object_permission: objectPermission.nullable().optional(),
  metadata: metadata.optional(),
  budget_id: z.string().optional(),
  ...LIMIT_FIELDS,
  ...LLM_ONLY,
};
export const orgNew = z.object({ organization_id: z.string().min(1).optional(), ...orgFields }).strict();
export const orgUpdate = z.object({ organization_id: z.string({ error: 'expected the organization_id' }), ...orgFields }).strict();
export const orgDelete = z.object({ organization_ids: names }).strict();
export const orgMemberAdd = z
  .object({
    organization_id: z.string({ error: 'expected the organization_id' }),
    member: z.union([member, z.array(member)]),
  })
  .strict();

const roles = z.enum(USER_ROLES, { error: `must be one of ${USER_ROLES.join(', ')}` });
const userFields = {
  user_email: z.string().nullable().optional(),
  user_alias: z.string().nullable().optional(),
  user_role: roles.optional(),
  organization_id: z.string().nullable().optional(),
  object_permission: objectPermission.nullable().optional(),
  metadata: metadata.optional(),
  teams: z.array(z.string()).optional(),
  auto_create_key: z.boolean().optional(),
  ...LIMIT_FIELDS,
  ...LLM_ONLY,
};
export const userNew = z.object({ user_id: z.string().min(1).optional(), ...userFields }).strict();
export const userUpdate = z.object({ user_id: z.string({ error: 'expected the user_id' }), ...userFields }).strict();
export const userDelete = z.object({ user_ids: names }).strict();

/** Validates a body; the first problem becomes a 400 naming the field and what it accepts. */
export function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const field = (at ? at + '.' : '') + issue.keys[0];
    const shape = shapeAt(schema, issue.path);
    const allowed = shape ? `; allowed fields: ${Object.keys(shape).join(', ')}` : '';
    throw new AdminError(400, `${field}: unknown field${allowed}`, 'bad_request_error', field);
  }
  const field = at || 'body';
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  throw new AdminError(400, `${field}: ${message}`, 'bad_request_error', field);
}

function shapeAt(schema: z.ZodType, path: PropertyKey[]): Record<string, unknown> | undefined {
  let s: unknown = schema;
  for (const p of path) {
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    s = shape?.[String(p)];
    while (s && (s as { unwrap?: () => unknown }).unwrap) s = (s as { unwrap: () => unknown }).unwrap();
  }
  return (s as { shape?: Record<string, unknown> } | undefined)?.shape;
}
