import type { z } from 'zod';
import { isSecretPath, maskSecret, redactUrl } from './mask.js';

/** A config that cannot be used. `issues` holds every problem found, each naming file, key path and fix. */
export class ConfigError extends Error {
  readonly issues: string[];
  /** Non-fatal findings from the same run; a typo warning often explains an error. */
  readonly warnings: string[];
  constructor(issues: string[], warnings: string[] = []) {
    const problems = issues.length === 1 ? issues[0] : `${issues.length} problems:\n${issues.map((i) => `  - ${i}`).join('\n')}`;
    const notes = warnings.length > 0 ? `\nWarnings:\n${warnings.map((w) => `  - ${w}`).join('\n')}` : '';
    super(problems + notes);
    this.name = 'ConfigError';
    this.issues = issues;
    this.warnings = warnings;
  }
}

export type KeyPath = readonly PropertyKey[];

/** `mcp_servers.github.auth_type`; segments that would read ambiguously are bracketed (`mcp_servers["a.b"]`). */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const s = String(segment);
      out += /^[A-Za-z0-9_-]+$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(top level)';
}

/** A value as it may appear in a message: secrets masked, URLs stripped of credentials, long text cut. */
export function showValue(path: KeyPath, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (empty value)';
  if (typeof value === 'string') {
    if (isSecretPath(path)) return maskSecret(value);
    if (path[path.length - 1] === 'url') return JSON.stringify(redactUrl(value));
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (isSecretPath(path)) return `a ${typeof value}`;
  return String(value);
}

/** Accumulates problems so one run reports all of them. */
export class IssueList {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}

  /** `where` is a key path, or a label for things outside the file (an environment variable). */
  error(where: KeyPath | string, problem: string): void {
    this.errors.push(`${this.file}: ${typeof where === 'string' ? where : formatPath(where)}: ${problem}`);
  }

  warn(where: KeyPath | string, problem: string): void {
    this.warnings.push(`${this.file}: ${typeof where === 'string' ? where : formatPath(where)}: ${problem}`);
  }

  /** Zod's own wording names neither the value nor (for enums) reads well; rephrase with the masked input. */
  addZod(prefix: KeyPath, issues: readonly z.core.$ZodIssue[]): void {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      const got = showValue(path, (issue as { input?: unknown }).input);
      this.error(path, describeIssue(issue, got));
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue, got: string): string {
  switch (issue.code) {
    case 'invalid_value':
      return `got ${got}; allowed: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type':
      if (got === 'nothing') return `is required (${expectedName(issue.expected)})`;
      return `expected ${expectedName(issue.expected)}, got ${got}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message;
    case 'invalid_union':
      return `got ${got}; expected ${issue.message.replace(/^Invalid input:?\s*/i, '') || 'another type'}`;
    default:
      return got === 'nothing' ? issue.message : `${issue.message} (got ${got})`;
  }
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'array':
      return 'a list';
    case 'record':
    case 'object':
      return 'a mapping';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}
