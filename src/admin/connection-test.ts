import type { Logger } from 'pino';
import { isUsableName, parseServer } from '../config/servers.js';
import { IssueList } from '../config/issues.js';
import type { ServerConfig } from '../config/types.js';
import { isObject } from '../mcp/jsonrpc.js';
import { checkUpstreamUrl, type Allowlist, type Resolver } from '../upstream/egress.js';
import { checkStdioCommand, checkStdioEnv } from '../upstream/stdio-policy.js';
import type { Upstream } from '../upstream/upstream.js';
import { AdminError, readJsonObject } from './http.js';
import type { AdminRoute } from './router.js';

export interface ConnectionTestDeps {
  /** A temporary Upstream for a definition (the gateway's transports, so the SSRF guard applies); closed after the test. */
  upstream(config: ServerConfig): Upstream;
  allowlist: Allowlist;
  resolve?: Resolver;
  /** Where the stdio allow-list's extra commands are read (TOOLGATE_STDIO_EXTRA_COMMANDS, LITELLM_MCP_STDIO_EXTRA_COMMANDS). */
  env: Readonly<Record<string, string | undefined>>;
  log: Pick<Logger, 'info'>;
}

/** A test never waits longer than this, whatever `timeout` the body asks for. */
const MAX_TEST_MS = 30_000;
const TEST_NAME = 'connection-test';
/** NewMCPServerRequest fields that are config.yaml fields under another name, or not about connecting. */
const RENAMED: Record<string, string> = { mcp_access_groups: 'access_groups' };
const IGNORED = new Set(['server_id', 'server_name', 'mcp_info', 'credentials', 'cwd']);

/**
 * LiteLLM's NewMCPServerRequest as a config.yaml server entry: `credentials` spread into the auth
 * fields, the rest as written. Validated by the config's own parser, so the messages are the same.
 * No environment: an API body must not read the gateway's variables through `os.environ/`.
 */
export function serverFromRequest(body: Record<string, unknown>): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!IGNORED.has(k) && v !== null && v !== undefined) raw[RENAMED[k] ?? k] = v;
  if (isObject(body.credentials)) for (const [k, v] of Object.entries(body.credentials)) if (v !== null && v !== undefined) raw[k] = v;
  const named = typeof body.server_name === 'string' && isUsableName(body.server_name) ? body.server_name : TEST_NAME;
  const issues = new IssueList('request');
  const config = parseServer(named, raw, {}, issues);
  if (!config || issues.errors.length > 0) {
    const prefix = `request: mcp_servers.${named}`;
    const messages = issues.errors.map((e) => e.replace(`${prefix}.`, '').replace(`${prefix}: `, ''));
    throw new AdminError(400, messages.join('; '), 'bad_request_error', firstField(messages[0]));
  }
  return { ...config, origin: 'api' };
}

function firstField(message: string | undefined): string | null {
  const m = message && /^([a-z0-9_]+)[.:[]/.exec(message);
  return m ? m[1]! : null;
}

/** The same refusals registration makes: the stdio allow-list and its env names, the SSRF guard on the URL. */
async function admissible(config: ServerConfig, deps: ConnectionTestDeps): Promise<void> {
  if (config.transport === 'stdio') {
    const refused = checkStdioCommand(config.command, deps.env);
    if (refused) throw new AdminError(400, refused, 'bad_request_error', 'command');
    const env = checkStdioEnv(config.env);
    if (env) throw new AdminError(400, env.message, 'bad_request_error', `env.${env.name}`);
    return;
  }
  const refused = await checkUpstreamUrl(config.url!, deps.allowlist, deps.resolve);
  if (refused) throw new AdminError(400, refused, 'bad_request_error', 'url');
}

type Outcome = { status: 'success' | 'error'; message: string; tools?: Record<string, unknown>[] };

/** Connects, initializes and (for tools/list) lists, then closes: nothing of it stays in the gateway. */
async function run(config: ServerConfig, deps: ConnectionTestDeps, listTools: boolean): Promise<Outcome> {
  await admissible(config, deps);
  const upstream = deps.upstream({ ...config, timeoutMs: Math.min(config.timeoutMs, MAX_TEST_MS) });
  const budget = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reject(new Error(`no answer within ${Math.min(config.timeoutMs, MAX_TEST_MS) / 1000} s`));
        budget.abort('connection test timeout');
      },
      Math.min(config.timeoutMs, MAX_TEST_MS),
    );
  });
  try {
    const work = async (): Promise<Outcome> => {
      const session = await upstream.sharedSession({});
      const info = isObject(session.initializeResult?.serverInfo) ? session.initializeResult.serverInfo : {};
      const who = [info.name, info.version].filter((s) => typeof s === 'string').join(' ');
      if (!listTools) return { status: 'success', message: `Connected and initialized${who ? ` (${who})` : ''}` };
      const tools: Record<string, unknown>[] = [];
      let cursor: unknown;
      for (let page = 0; page < 100; page++) {
        const r = await session.request('tools/list', cursor === undefined ? undefined : { cursor }, { signal: budget.signal });
        if (Array.isArray(r.tools)) tools.push(...r.tools.filter(isObject));
        cursor = r.nextCursor;
        if (typeof cursor !== 'string' || cursor === '') break;
      }
      return { status: 'success', message: `Listed ${tools.length} tools${who ? ` of ${who}` : ''}`, tools };
    };
    return await Promise.race([work(), timeout]);
  } catch (err) {
    // Upstream text is redacted of every secret of the definition (credentials, static headers, env).
    const message = upstream.redactor.redact(err instanceof Error ? err.message : String(err));
    return { status: 'error', message, ...(listTools ? { tools: [] } : {}) };
  } finally {
    clearTimeout(timer);
    await upstream.close().catch(() => {});
  }
}

/**
 * `POST /mcp-rest/test/connection` and `POST /mcp-rest/test/tools/list`: try a server definition
 * before saving it. Admin only (the route table's default), checked before the body is read, so a
 * non-admin's stdio command is never even parsed, let alone started (LiteLLM's CVE-2026-30623).
 */
export function connectionTestRoutes(deps: () => ConnectionTestDeps): { routes: AdminRoute[]; prefixes: string[] } {
  const handler = (listTools: boolean) => async (_ctx: unknown, req: Parameters<typeof readJsonObject>[0]) => {
    const d = deps();
    const config = serverFromRequest(await readJsonObject(req));
    d.log.info({ transport: config.transport, listTools }, 'connection test');
    return run(config, d, listTools);
  };
  return {
    routes: [
      { method: 'POST', path: '/mcp-rest/test/connection', handler: handler(false) },
      { method: 'POST', path: '/mcp-rest/test/tools/list', handler: handler(true) },
    ],
    prefixes: ['/mcp-rest/test/'],
  };
}
