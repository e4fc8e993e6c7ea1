import { z } from 'zod';
import type { IssueList, KeyPath } from './issues.js';

export type Env = Record<string, string | undefined>;

const ENV_REF = /^os\.environ\/(.*)$/;

/**
 * A string that may be written `os.environ/NAME` (LiteLLM's reference syntax), resolved from `env` at load.
 * The issue raised for a missing variable carries the key path, so the message names what needs it.
 */
export function resolvable(env: Env) {
  return z.string().transform((value, ctx) => {
    const ref = ENV_REF.exec(value);
    if (!ref) return value;
    const name = ref[1];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      ctx.issues.push({ code: 'custom', message: `"os.environ/${name}" does not name an environment variable`, input: undefined });
      return z.NEVER;
    }
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      ctx.issues.push({
        code: 'custom',
        message: `environment variable ${name} is ${resolved === undefined ? 'not set' : 'empty'}`,
        input: undefined,
      });
      return z.NEVER;
    }
    return resolved;
  });
}

/** YAML turns `X-Version: 2` into a number; header values and child env values are text either way. */
export function scalarText(env: Env) {
  return z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform(String).pipe(resolvable(env));
}

export const text = z.string();
export const textList = z.array(z.string().min(1, 'must not be empty'));
export const textMap = z.record(z.string(), z.string());
export const positiveSeconds = z.number().positive('must be a number of seconds greater than 0');

export type FieldShape = Record<string, z.ZodType>;
export type ParsedFields<S extends FieldShape> = { [K in keyof S]?: z.output<S[K]> };

/**
 * Validates each field on its own so one bad field never hides problems in the others, and later
 * cross-field checks can still look at everything that did parse.
 */
export function parseFields<S extends FieldShape>(shape: S, raw: Record<string, unknown>, at: KeyPath, issues: IssueList): ParsedFields<S> {
  const out: ParsedFields<S> = {};
  for (const key of Object.keys(shape) as (keyof S & string)[]) {
    if (raw[key] === undefined) continue;
    const result = shape[key].safeParse(raw[key], { reportInput: true });
    if (result.success) out[key] = result.data as z.output<S[typeof key]>;
    else issues.addZod([...at, key], result.error.issues);
  }
  return out;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keys the user wrote that nobody reads. LiteLLM-only keys pass silently (the same file serves both);
 * anything else is most likely a typo, so the warning suggests the nearest known key.
 */
export function warnUnknownKeys(
  raw: Record<string, unknown>,
  known: Iterable<string>,
  litellmOnly: (key: string) => boolean,
  at: KeyPath,
  issues: IssueList,
): void {
  const knownKeys = [...known];
  for (const key of Object.keys(raw)) {
    if (knownKeys.includes(key) || litellmOnly(key)) continue;
    const near = nearest(key, knownKeys);
    issues.warn([...at, key], `unknown key, ignored${near ? ` (did you mean ${near}?)` : ''}`);
  }
}

function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
