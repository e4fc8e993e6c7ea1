import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One `toolgate` command: its usage text, its options, and what it does. */
export interface Command {
  name: string;
  /** The usage lines (without "Usage:"), shown by --help and after every argument error. */
  usage: string;
  options: Options;
  /** How many positionals are allowed (default none). */
  maxPositionals?: number;
  run(args: Parsed): Promise<number>;
}

/** An argument error: one line, then the usage, exit 2. */
export class UsageError extends Error {}

/**
 * Parses a command's arguments the same way for every command: `--help`/`-h` anywhere before `--`
 * wins (so `start --config --help` is help, not a config named --help), and every mistake becomes a
 * one-line UsageError instead of node's multi-line TypeError.
 */
export function parseCommand(cmd: Command, args: string[]): Parsed | 'help' {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  if (head.includes('--help') || head.includes('-h')) return 'help';
  let parsed;
  try {
    parsed = parseArgs({ args, options: cmd.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(argumentMessage(err));
  }
  const max = cmd.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max]!;
    throw new UsageError(max === 0 ? `unexpected argument "${extra}"` : `unexpected extra argument "${extra}"`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

function argumentMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  const option = /--[\w-]+/.exec(msg)?.[0] ?? /'(-\w)/.exec(msg)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? msg}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // Missing value ("argument missing"), a value that looks like an option, or a value given to a flag.
      if (/argument missing|ambiguous/.test(msg)) return `option ${option} needs a value`;
      return `option ${option} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return msg.split('.')[0]!;
    default:
      throw err;
  }
}

/** A string option's value, or undefined. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}
