import type { FieldProblem, ServerRecord } from '../config/stored-server.js';
import { checkStdioCommand, checkStdioEnv, STDIO_EXTRA_VARIABLES } from '../upstream/stdio-policy.js';

/** Programs that are shells: refused by the allow-list anyway, named as such so the fix is clear. */
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'csh', 'tcsh', 'fish', 'ash', 'cmd', 'cmd.exe', 'powershell', 'pwsh']);

/**
 * The stdio problems of a record registered through the API (none for http and sse servers): the
 * command must be on the allow-list (upstream/stdio-policy.ts, LiteLLM's CVE-2026-30623 fix) and the
 * arguments a list of strings, since the child is spawned with an argument array and never a shell.
 */
export function stdioProblems(record: ServerRecord, extraCommands: readonly string[]): FieldProblem[] {
  if (record.command === undefined || (record.transport !== 'stdio' && record.url !== undefined)) return [];
  const problems: FieldProblem[] = [];
  const refuse = (param: string, why: string) => problems.push({ param, message: `${param}: ${why}` });
  const refusal = checkStdioCommand(record.command, { [STDIO_EXTRA_VARIABLES[0]]: extraCommands.join(',') });
  if (refusal) {
    const first = typeof record.command === 'string' ? (record.command.trim().split(/\s+/)[0] ?? '') : '';
    const shell = SHELLS.has((first.split(/[\\/]/).pop() ?? '').toLowerCase());
    refuse('command', shell ? `${refusal}; ${JSON.stringify(first)} is a shell, and commands never run through one` : refusal);
  }
  const env = checkStdioEnv(record.env);
  if (env) problems.push({ param: `env.${env.name}`, message: env.message });
  if (record.args !== undefined) {
    if (!Array.isArray(record.args)) refuse('args', 'expected a list of strings (each argument on its own; no shell is used)');
    else
      record.args.forEach((a, i) => {
        if (typeof a !== 'string') refuse(`args[${i}]`, 'expected a string (each argument on its own; no shell is used)');
      });
  }
  return problems;
}
