import type { FieldProblem, ServerRecord } from '../config/stored-server.js';

/**
 * What a server registered through the API may run. LiteLLM once ran any submitted stdio command
 * (CVE-2026-30623); its fix, kept here: only these programs, extended by the operator's variables, and
 * never through a shell (the child is spawned with an argument array, `shell` off).
 */
export const DEFAULT_STDIO_COMMANDS = ['npx', 'uvx', 'python', 'python3', 'node', 'docker', 'deno'] as const;
export const STDIO_EXTRA_VARIABLES = ['TOOLGATE_STDIO_EXTRA_COMMANDS', 'LITELLM_MCP_STDIO_EXTRA_COMMANDS'] as const;

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'csh', 'tcsh', 'fish', 'ash', 'cmd', 'cmd.exe', 'powershell', 'pwsh']);
/** Characters a shell would act on: a command holding one was written for a shell, which is never used. */
const SHELL_META = /[\s;&|`$<>(){}[\]*?!~#'"\\\n\r\0]/;

/** The stdio problems of a record (none for http and sse servers). */
export function stdioProblems(record: ServerRecord, extra: readonly string[]): FieldProblem[] {
  if (record.command === undefined || (record.transport !== 'stdio' && record.url !== undefined)) return [];
  const allowed = [...DEFAULT_STDIO_COMMANDS, ...extra];
  const rule = `allowed commands: ${allowed.join(', ')} (add more with ${STDIO_EXTRA_VARIABLES.join(' or ')}, comma-separated)`;
  const problems: FieldProblem[] = [];
  const refuse = (param: string, why: string) => problems.push({ param, message: `${param}: ${why}` });
  const command = record.command;
  if (typeof command !== 'string' || command === '') refuse('command', `expected the program to start, e.g. npx; ${rule}`);
  else if (!allowed.includes(command)) {
    const first = command.trim().split(/\s+/)[0] ?? command;
    const base = first.split(/[\\/]/).pop() ?? first;
    if (SHELLS.has(base.toLowerCase())) refuse('command', `${JSON.stringify(command)} is a shell, and commands never run through one; ${rule}`);
    else if (SHELL_META.test(command))
      refuse('command', `${JSON.stringify(command)} contains shell syntax; give the program alone and its arguments in args; ${rule}`);
    else if (/[\\/]/.test(command)) refuse('command', `the path ${JSON.stringify(command)} is not in the allow-list; ${rule}`);
    else refuse('command', `${JSON.stringify(command)} is not in the allow-list; ${rule}`);
  }
  if (record.args !== undefined) {
    if (!Array.isArray(record.args)) refuse('args', 'expected a list of strings (each argument on its own; no shell is used)');
    else
      record.args.forEach((a, i) => {
        if (typeof a !== 'string') refuse(`args[${i}]`, 'expected a string (each argument on its own; no shell is used)');
      });
  }
  return problems;
}
