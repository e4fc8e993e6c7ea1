import { checkHttpUrl } from './servers.js';
import { isMapping, resolvable, warnUnknownKeys, type Env } from './fields.js';
import type { IssueList, KeyPath } from './issues.js';
import { GUARDRAIL_MODES, type GuardrailAction, type GuardrailConfig, type GuardrailMode, type GuardrailRule } from './types.js';

/** The built-in detectors, by the names `detectors:` and LiteLLM-style `pattern_name:` use (src/policy/guardrails/detectors). */
export const SECRET_DETECTORS = [
  'aws_access_key_id',
  'github_token',
  'gitlab_token',
  'slack_token',
  'private_key',
  'jwt',
  'bearer_token',
] as const;
export const PII_DETECTORS = ['email', 'phone', 'credit_card', 'iban', 'us_ssn'] as const;
export type DetectorName = (typeof SECRET_DETECTORS)[number] | (typeof PII_DETECTORS)[number];
const DETECTORS: readonly string[] = [...SECRET_DETECTORS, ...PII_DETECTORS];

const BUILT_IN = ['toolgate_secrets', 'toolgate_pii', 'toolgate_regex', 'litellm_content_filter'];
const WEBHOOK = 'generic_guardrail_api';
/** LiteLLM's modes for model calls: accepted (the same file drives a LiteLLM proxy), not applied to MCP calls. */
const LLM_MODES = new Set(['pre_call', 'post_call', 'during_call', 'logging_only']);
const KEYS = [
  'guardrail',
  'mode',
  'default_on',
  'action',
  'detectors',
  'patterns',
  'keywords',
  'blocked_words',
  'api_base',
  'api_key',
  'headers',
  'timeout',
  'fail_open',
  'unreachable_fallback',
];
const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 5;

/** The top-level `guardrails:` list; entries with errors are left out (every problem is in `issues`). */
export function parseGuardrails(raw: unknown, env: Env, issues: IssueList): GuardrailConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.error(['guardrails'], 'expected a list of {guardrail_name, litellm_params: {guardrail, mode, ...}}');
    return [];
  }
  const out: GuardrailConfig[] = [];
  const names = new Set<string>();
  raw.forEach((entry, i) => {
    const name = isMapping(entry) ? entry.guardrail_name : undefined;
    if (typeof name === 'string' && names.has(name))
      return issues.error(['guardrails', i, 'guardrail_name'], `${JSON.stringify(name)} is defined twice`);
    if (typeof name === 'string') names.add(name);
    const g = parseGuardrail(entry, ['guardrails', i], env, issues);
    if (g) out.push(g);
  });
  return out;
}

function parseGuardrail(raw: unknown, at: KeyPath, env: Env, issues: IssueList): GuardrailConfig | undefined {
  if (!isMapping(raw) || typeof raw.guardrail_name !== 'string' || raw.guardrail_name === '') {
    issues.error(at, 'expected {guardrail_name: <name>, litellm_params: {guardrail, mode, ...}}');
    return undefined;
  }
  const name = raw.guardrail_name;
  const p = raw.litellm_params;
  const pAt = [...at, 'litellm_params'];
  if (!isMapping(p)) {
    issues.error(pAt, 'expected a mapping with guardrail and mode');
    return undefined;
  }
  const before = issues.errors.length;
  // A guardrail for model calls only (LiteLLM's pre_call, post_call...) is LiteLLM's business: the same
  // file may drive a LiteLLM proxy, so it passes silently whatever its provider.
  const written = Array.isArray(p.mode) ? p.mode : [p.mode];
  if (p.mode !== undefined && written.length > 0 && written.every((m) => LLM_MODES.has(m as string))) return undefined;
  warnUnknownKeys(p, KEYS, () => true, pAt, issues);
  const provider = p.guardrail;
  if (typeof provider !== 'string' || ![...BUILT_IN, WEBHOOK].includes(provider)) {
    issues.error([...pAt, 'guardrail'], `got ${JSON.stringify(provider)}; Toolgate runs: ${[...BUILT_IN, WEBHOOK].join(', ')}`);
    return undefined;
  }
  const modes = parseModes(p.mode, [...pAt, 'mode'], issues);
  if (p.default_on !== undefined && typeof p.default_on !== 'boolean') issues.error([...pAt, 'default_on'], 'expected true or false');
  const action = parseAction(p.action ?? 'block', [...pAt, 'action'], issues);
  const rules = provider === WEBHOOK ? [] : parseRules(provider, p, pAt, action ?? 'block', issues);
  const webhook = provider === WEBHOOK ? parseWebhook(p, pAt, env, issues) : undefined;
  if (issues.errors.length > before || !action) return undefined;
  return { name, provider, modes, defaultOn: p.default_on === true, rules, ...(webhook ? { webhook } : {}) };
}

function parseModes(raw: unknown, at: KeyPath, issues: IssueList): GuardrailMode[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || list.length === 0) {
    issues.error(at, `is required: one of ${GUARDRAIL_MODES.join(', ')}, or a list of them`);
    return [];
  }
  const modes: GuardrailMode[] = [];
  for (const m of list) {
    if ((GUARDRAIL_MODES as readonly unknown[]).includes(m)) modes.push(m as GuardrailMode);
    else if (!LLM_MODES.has(m as string)) issues.error(at, `got ${JSON.stringify(m)}; allowed: ${GUARDRAIL_MODES.join(', ')}`);
  }
  return modes;
}

function parseAction(raw: unknown, at: KeyPath, issues: IssueList): GuardrailAction | undefined {
  const a = typeof raw === 'string' ? raw.toLowerCase() : raw;
  if (a === 'block' || a === 'mask') return a;
  issues.error(at, `got ${JSON.stringify(raw)}; allowed: block, mask`);
  return undefined;
}

function parseRules(
  provider: string,
  p: Record<string, unknown>,
  at: KeyPath,
  action: GuardrailAction,
  issues: IssueList,
): GuardrailRule[] {
  const rules: GuardrailRule[] = [];
  const before = issues.errors.length;
  const prebuilt = (n: unknown, path: KeyPath, a: GuardrailAction) => {
    if (typeof n === 'string' && DETECTORS.includes(n)) rules.push({ type: 'prebuilt', name: n, action: a });
    else issues.error(path, `got ${JSON.stringify(n)}; built-in detectors: ${DETECTORS.join(', ')}`);
  };
  if (p.detectors !== undefined) {
    if (!Array.isArray(p.detectors)) issues.error([...at, 'detectors'], 'expected a list of detector names');
    else p.detectors.forEach((d, i) => prebuilt(d, [...at, 'detectors', i], action));
  } else if (provider === 'toolgate_secrets' || provider === 'toolgate_pii') {
    for (const d of provider === 'toolgate_secrets' ? SECRET_DETECTORS : PII_DETECTORS) rules.push({ type: 'prebuilt', name: d, action });
  }
  listOf(p.patterns, [...at, 'patterns'], issues).forEach((entry, i) => {
    const path = [...at, 'patterns', i];
    if (typeof entry === 'string') return void regexRule(entry, `pattern ${i + 1}`, action, path, rules, issues);
    if (!isMapping(entry)) return issues.error(path, 'expected a regex string or {pattern, name, action}');
    const a = entry.action === undefined ? action : parseAction(entry.action, [...path, 'action'], issues);
    if (!a) return;
    if (entry.pattern_type === 'prebuilt') return prebuilt(entry.pattern_name, [...path, 'pattern_name'], a);
    if (typeof entry.pattern !== 'string') return issues.error([...path, 'pattern'], 'is required (a regular expression)');
    const label =
      typeof entry.name === 'string' ? entry.name : typeof entry.pattern_name === 'string' ? entry.pattern_name : `pattern ${i + 1}`;
    regexRule(entry.pattern, label, a, [...path, 'pattern'], rules, issues);
  });
  const words = [...listOf(p.keywords, [...at, 'keywords'], issues), ...listOf(p.blocked_words, [...at, 'blocked_words'], issues)];
  words.forEach((w, i) => {
    const keyword = isMapping(w) ? w.keyword : w;
    const a = isMapping(w) && w.action !== undefined ? parseAction(w.action, [...at, 'keywords', i, 'action'], issues) : action;
    if (typeof keyword !== 'string' || keyword === '') return issues.error([...at, 'keywords', i], 'expected a non-empty keyword');
    if (a) rules.push({ type: 'keyword', name: 'keyword', keyword, action: a });
  });
  if (rules.length === 0 && issues.errors.length === before) issues.error(at, 'detects nothing: give detectors, patterns or keywords');
  return rules;
}

function listOf(raw: unknown, at: KeyPath, issues: IssueList): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw;
  issues.error(at, 'expected a list');
  return [];
}

function regexRule(pattern: string, name: string, action: GuardrailAction, at: KeyPath, rules: GuardrailRule[], issues: IssueList): void {
  try {
    new RegExp(pattern, 'g');
  } catch (err) {
    return issues.error(at, `is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  rules.push({ type: 'regex', name, pattern, action });
}

function parseWebhook(p: Record<string, unknown>, at: KeyPath, env: Env, issues: IssueList): GuardrailConfig['webhook'] {
  const secret = resolvable(env);
  const url = secret.safeParse(p.api_base);
  if (p.api_base === undefined || !url.success) {
    issues.error(
      [...at, 'api_base'],
      url.success || p.api_base === undefined ? 'is required (the webhook URL)' : url.error.issues[0]!.message,
    );
    return undefined;
  }
  checkHttpUrl(url.data, [...at, 'api_base'], issues);
  let apiKey: string | undefined;
  if (p.api_key !== undefined) {
    const k = secret.safeParse(p.api_key);
    if (k.success) apiKey = k.data;
    else issues.error([...at, 'api_key'], k.error.issues[0]?.message ?? 'expected a string or os.environ/NAME');
  }
  const headers: Record<string, string> = {};
  if (p.headers !== undefined && !isMapping(p.headers)) issues.error([...at, 'headers'], 'expected a mapping of header: value');
  else {
    // Header values are often credentials: os.environ/NAME works here as everywhere a secret can stand.
    for (const [k, v] of Object.entries(p.headers ?? {})) {
      const value = secret.safeParse(String(v));
      if (value.success) headers[k.toLowerCase()] = value.data;
      else issues.error([...at, 'headers', k], value.error.issues[0]?.message ?? 'expected a string or os.environ/NAME');
    }
  }
  const timeout = p.timeout ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0)) issues.error([...at, 'timeout'], 'must be a number of seconds greater than 0');
  if (p.fail_open !== undefined && typeof p.fail_open !== 'boolean') issues.error([...at, 'fail_open'], 'expected true or false');
  const fallback = p.unreachable_fallback;
  if (fallback !== undefined && fallback !== 'fail_open' && fallback !== 'fail_closed') {
    issues.error([...at, 'unreachable_fallback'], `got ${JSON.stringify(fallback)}; allowed: fail_open, fail_closed`);
  }
  // Closed unless said otherwise: a guardrail that cannot answer should not wave calls through.
  const failOpen = p.fail_open === true || fallback === 'fail_open';
  return { url: url.data, apiKey, headers, timeoutMs: Number(timeout) * 1000, failOpen };
}
