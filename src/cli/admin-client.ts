import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A management API failure, printed as one line (LiteLLM's error message) with exit code 1. */
export class AdminCliError extends Error {}

export interface AdminTarget {
  url: string;
  key: string;
}

/** `--url` (default http://127.0.0.1:4000) and the admin key from TOOLGATE_MASTER_KEY: the CLI never opens the data directory. */
export function targetOf(url: string | undefined, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  const key = env.TOOLGATE_MASTER_KEY;
  if (!key) throw new AdminCliError('set TOOLGATE_MASTER_KEY to the gateway master key (or a proxy_admin user key)');
  return { url: (url ?? env.TOOLGATE_URL ?? 'http://127.0.0.1:4000').replace(/\/$/, ''), key };
}

/** LiteLLM's API answers: loosely typed JSON, read field by field by the commands. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = any;

export async function call(t: AdminTarget, method: string, path: string, body?: unknown): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(t.url + path, {
      method,
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new AdminCliError(
      `cannot reach the gateway at ${t.url} (${(err as Error).cause ?? (err as Error).message}); is it running? (--url)`,
    );
  }
  const text = await res.text();
  let json: Answer;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AdminCliError(`${method} ${path}: HTTP ${res.status} with a non-JSON answer; is ${t.url} a Toolgate gateway?`);
  }
  if (!res.ok) throw new AdminCliError(`${method} ${path}: ${res.status} ${json?.error?.message ?? text}`);
  return json;
}

/** Rows as an aligned text table with the given columns; missing values show as "-". */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

export const COMMON_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** A comma-separated option as a list. */
export const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

export type Options = Record<string, string | boolean | undefined>;

/** `--servers a,b --groups g` as an object_permission, or undefined when neither is given. */
export function permission(v: Options) {
  const servers = list(v.servers as string | undefined);
  const groups = list(v.groups as string | undefined);
  return servers || groups ? { mcp_servers: servers, mcp_access_groups: groups } : undefined;
}

export interface Subcommand {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(t: AdminTarget, values: Options, positionals: string[]): Promise<{ json: unknown; text: string }>;
}

/** Runs `toolgate <noun> <verb> ...`: --help, option errors as one line plus usage, tables or --json. */
export async function runNoun(noun: string, verbs: Record<string, Subcommand>, argv: string[]): Promise<number> {
  const usage = `Usage: toolgate ${noun} ${Object.keys(verbs).join('|')} [options]\n${Object.values(verbs)
    .map((v) => `  toolgate ${noun} ${v.usage}`)
    .join('\n')}\n\nOptions: --url URL (default http://127.0.0.1:4000), --json; the admin key comes from TOOLGATE_MASTER_KEY.\n`;
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(usage);
    return verb === undefined ? 2 : 0;
  }
  const sub = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!sub) {
    process.stderr.write(`toolgate ${noun}: unknown command "${verb}"\n\n${usage}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { ...COMMON_OPTIONS, ...sub.options } });
  } catch (err) {
    process.stderr.write(`toolgate ${noun} ${verb}: ${(err as Error).message}\n\nUsage: toolgate ${noun} ${sub.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`Usage: toolgate ${noun} ${sub.usage}\n`);
    return 0;
  }
  try {
    const out = await sub.run(targetOf(parsed.values.url as string | undefined), parsed.values as Options, parsed.positionals);
    process.stdout.write(parsed.values.json ? JSON.stringify(out.json, null, 2) + '\n' : out.text);
    return 0;
  } catch (err) {
    if (!(err instanceof AdminCliError)) throw err;
    process.stderr.write(`toolgate ${noun} ${verb}: ${err.message}\n`);
    return 1;
  }
}

/** One positional argument, or a usage error. */
export function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new AdminCliError(`name exactly one ${what}`);
  return positionals[0];
}
