/**
 * Which programs a stdio server registered through the API (or tried by a connection test) may start.
 * LiteLLM once ran any submitted command for any key holder (CVE-2026-30623); its fix is this
 * allow-list, and Toolgate keeps the same default set and the same environment variable. The command
 * is started with its args as an array (never through a shell), so only the command itself is judged.
 * Config-file servers are trusted as written and never pass through here.
 */
export const DEFAULT_STDIO_COMMANDS = ['npx', 'uvx', 'python', 'python3', 'node', 'docker', 'deno'] as const;

export const STDIO_EXTRA_VARIABLES = ['TOOLGATE_STDIO_EXTRA_COMMANDS', 'LITELLM_MCP_STDIO_EXTRA_COMMANDS'] as const;

/** Anything a shell would interpret, and whitespace: a command is one program name or path, nothing more. */
const SHELL_METACHARACTERS = /[\s;&|`$<>(){}[\]*?!~#'"\\]/;

type Env = Readonly<Record<string, string | undefined>>;

/** The default set plus both variables' comma-separated entries (an entry may be an absolute path). */
export function stdioAllowList(env: Env = process.env): string[] {
  const extra = STDIO_EXTRA_VARIABLES.flatMap((name) => (env[name] ?? '').split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '' && !SHELL_METACHARACTERS.test(s));
  return [...new Set([...DEFAULT_STDIO_COMMANDS, ...extra])];
}

/** undefined when the command may be started, else why not (naming the command and how to allow one). */
export function checkStdioCommand(command: unknown, env: Env = process.env): string | undefined {
  if (typeof command !== 'string' || command === '') return 'stdio command must be a program name, e.g. npx';
  const shown = JSON.stringify(command);
  if (SHELL_METACHARACTERS.test(command)) {
    return `stdio command ${shown} contains shell metacharacters or spaces; give the program alone in command and its arguments in args (never run through a shell)`;
  }
  const allowed = stdioAllowList(env);
  // Exact match only: /tmp/x/node is not node, and a path is allowed only if listed as that path.
  if (allowed.includes(command)) return undefined;
  return (
    `stdio command ${shown} is not allowed; allowed: ${allowed.join(', ')} ` +
    `(add commands, comma-separated, to ${STDIO_EXTRA_VARIABLES[0]} or ${STDIO_EXTRA_VARIABLES[1]})`
  );
}

/**
 * Environment variables that choose which program runs or what it loads before its own code: with
 * them, an allowed `node` becomes `/tmp/x/node` (PATH) or loads any library or script (LD_PRELOAD,
 * NODE_OPTIONS, PYTHONSTARTUP, ...), which would make the allow-list above pointless. Matched without
 * regard to case (Windows reads `Path` as PATH).
 */
const LOADER_VARIABLES = new Set([
  'PATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'BASH_ENV',
  'ENV',
  'PERL5LIB',
  'PERL5OPT',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  'JDK_JAVA_OPTIONS',
  '_JAVA_OPTIONS',
]);
const LOADER_PREFIXES = ['LD_', 'DYLD_', 'PYTHON'];

/** The first env name an API-registered stdio server may not set, with why; undefined when all may be set. */
export function checkStdioEnv(env: unknown): { name: string; message: string } | undefined {
  if (env === null || typeof env !== 'object') return undefined;
  for (const name of Object.keys(env)) {
    const upper = name.toUpperCase();
    if (LOADER_VARIABLES.has(upper) || LOADER_PREFIXES.some((p) => upper.startsWith(p))) {
      return {
        name,
        message: `env.${name}: may not be set for a stdio server registered through the API: it changes which program runs or what it loads (refused: PATH, LD_*, DYLD_*, NODE_OPTIONS, NODE_PATH, PYTHON*, BASH_ENV, ENV, PERL5LIB, RUBYOPT, JAVA_TOOL_OPTIONS and similar); give the program's full path on the allow-list instead, or define the server in config.yaml`,
      };
    }
  }
  return undefined;
}
