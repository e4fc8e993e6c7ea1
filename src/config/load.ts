import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { GatewayConfig, ServerConfig } from './types.js';
import { isMapping, warnUnknownKeys, type Env } from './fields.js';
import { ConfigError, IssueList } from './issues.js';
import { isUsableName, parseServer } from './servers.js';
import { parseGuardrails } from './guardrails.js';
import { parseAccessSettings, parseMasterKey, parseSettings } from './settings.js';

export { ConfigError } from './issues.js';

const TOP_LEVEL_KEYS = [
  'mcp_servers',
  'general_settings',
  'litellm_settings',
  'model_list',
  'router_settings',
  'toolgate_settings',
  'environment_variables',
  'guardrails',
];
/** Other LiteLLM sections: the same file may drive a LiteLLM proxy, so they pass silently. */
const LITELLM_TOP_LEVEL_KEYS = new Set([
  'callback_settings',
  'credential_list',
  'files_settings',
  'finetune_settings',
  'assistant_settings',
  'search_tools',
  'vector_store_registry',
  'prompts',
  'policies',
  'agent_list',
]);

/** Reads and validates a LiteLLM-style config.yaml. Throws ConfigError listing every problem found. */
export function loadConfig(file: string, env: Env = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(err)})`;
    throw new ConfigError([`${file}: ${why} (absolute path: ${resolve(file)})`]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: Env = process.env): GatewayConfig {
  // LiteLLM reads YAML with PyYAML's safe_load: merge keys (`<<: *anchor`) work there, so they must here.
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // Only the first line: the rest of yaml's message quotes the source, which may hold a secret.
    throw new ConfigError(doc.errors.map((e) => `${file}: invalid YAML: ${e.message.split('\n')[0].replace(/:$/, '')}`));
  }
  const root: unknown = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const issues = new IssueList(file);
  if (!isMapping(root)) throw new ConfigError([`${file}: expected a mapping at the top level (mcp_servers:, general_settings:, ...)`]);

  warnUnknownKeys(root, TOP_LEVEL_KEYS, (k) => LITELLM_TOP_LEVEL_KEYS.has(k), [], issues);
  if (root.include !== undefined) {
    issues.warn(['include'], 'included files are not read by Toolgate yet; move their mcp_servers into this file');
  }
  const effectiveEnv = withConfigEnvironment(root.environment_variables, env, issues);
  const masterKey = parseMasterKey(root.general_settings, effectiveEnv, issues);
  const settings = parseSettings(root.toolgate_settings, effectiveEnv, issues);
  const access = parseAccessSettings(root.general_settings, root.toolgate_settings, issues);
  const servers = parseServers(root.mcp_servers, effectiveEnv, issues);
  applyLitellmAliases(root.litellm_settings, servers, issues);
  checkUniquePrefixes(servers, issues);
  const guardrails = parseGuardrails(root.guardrails, effectiveEnv, issues);

  if (issues.errors.length > 0) throw new ConfigError(issues.errors, issues.warnings);
  return { file: resolve(file), masterKey, servers, settings, access, guardrails, warnings: issues.warnings };
}

/**
 * LiteLLM copies `environment_variables:` into its process environment unless the variable is already set,
 * so `os.environ/` references may point at them; the real environment wins, as there.
 */
function withConfigEnvironment(raw: unknown, env: Env, issues: IssueList): Env {
  if (raw === undefined || raw === null) return env;
  if (!isMapping(raw)) {
    issues.error(['environment_variables'], 'expected a mapping of NAME: value');
    return env;
  }
  const fromConfig: Env = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fromConfig[name] = String(value);
    else issues.error(['environment_variables', name], 'expected a string value');
  }
  return { ...fromConfig, ...env };
}

function parseServers(raw: unknown, env: Env, issues: IssueList): ServerConfig[] {
  if (raw === undefined || raw === null) {
    issues.warn(['mcp_servers'], 'no servers configured; the gateway will serve no tools');
    return [];
  }
  if (!isMapping(raw)) {
    issues.error(['mcp_servers'], 'expected a mapping of server name to server settings (LiteLLM format), not a list');
    return [];
  }
  const servers: ServerConfig[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const server = parseServer(name, value, env, issues);
    if (server) servers.push(server);
  }
  return servers;
}

/** `litellm_settings.mcp_aliases: {alias: server_name}`; as in LiteLLM only the first alias per server counts. */
function applyLitellmAliases(litellmSettings: unknown, servers: ServerConfig[], issues: IssueList): void {
  if (!isMapping(litellmSettings) || litellmSettings.mcp_aliases === undefined) return;
  const at = ['litellm_settings', 'mcp_aliases'];
  const aliases = litellmSettings.mcp_aliases;
  if (!isMapping(aliases)) {
    issues.error(at, 'expected a mapping of alias: server_name');
    return;
  }
  const aliased = new Set<string>();
  for (const [alias, target] of Object.entries(aliases)) {
    const server = servers.find((s) => s.name === target);
    if (!isUsableName(alias)) {
      issues.error([...at, alias], 'cannot be a tool-name prefix; use 1-64 characters from A-Z a-z 0-9 _ . -');
    } else if (!server) {
      issues.warn([...at, alias], `names ${JSON.stringify(target)}, which is not a configured server`);
    } else if (!aliased.has(server.name) && server.alias === undefined) {
      server.alias = alias;
      aliased.add(server.name);
    }
  }
}

/** Two servers with one prefix would produce colliding tool names in every aggregated listing. */
function checkUniquePrefixes(servers: ServerConfig[], issues: IssueList): void {
  const owner = new Map<string, string>();
  for (const server of servers) {
    const prefix = server.alias ?? server.name;
    const other = owner.get(prefix);
    if (other !== undefined) {
      issues.error(
        ['mcp_servers', server.name, 'alias'],
        `tool-name prefix ${JSON.stringify(prefix)} is already used by server ${JSON.stringify(other)}; choose a different alias`,
      );
    }
    owner.set(prefix, server.name);
  }
}
