import { homedir } from 'node:os';
import { join } from 'node:path';
import { KEY_ENV } from './endpoint.js';

type Json = Record<string, unknown>;

/** What a client entry is built from. */
export interface EntryInput {
  /** The MCP endpoint (…/mcp or …/mcp/{server}). */
  url: string;
  /** The entry's name in the client's config. */
  name: string;
  /** The key itself, only with --inline-key; otherwise each client's own variable or prompt mechanism. */
  key?: string;
  /** How a stdio-only client starts `toolgate bridge`: the command and the arguments before `bridge`. */
  launch: { command: string; args: string[] };
}

/**
 * One MCP client: where its config lives (as its own docs say) and the entry Toolgate adds there.
 * `connect` prints and merges these; the README's client sections are these same snippets (a test
 * compares them), so the two never drift.
 */
export interface ClientSpec {
  title: string;
  /** The documented location, as shown to the user. */
  where: string;
  /** The same, resolved on this machine. */
  path(): string;
  format: 'json' | 'toml';
  /** The config fragment holding only Toolgate's entry, to merge into the file. */
  fragment(e: EntryInput): Json;
  /** How the key reaches the client when it is not inline. */
  keyNote(e: EntryInput): string;
  /** Another way to add it, when the client has one (Claude Code's `claude mcp add`). */
  command?(e: EntryInput): string;
}

const bearer = (e: EntryInput, ref: string) => `Bearer ${e.key ?? ref}`;

function claudeDesktopPath(): string {
  if (process.platform === 'darwin') return join(homedir(), 'Library/Application Support/Claude/claude_desktop_config.json');
  if (process.platform === 'win32')
    return join(process.env.APPDATA ?? join(homedir(), 'AppData/Roaming'), 'Claude/claude_desktop_config.json');
  return join(homedir(), '.config/Claude/claude_desktop_config.json');
}

export const CLIENTS: Record<string, ClientSpec> = {
  cursor: {
    title: 'Cursor',
    where: '~/.cursor/mcp.json',
    path: () => join(homedir(), '.cursor/mcp.json'),
    format: 'json',
    fragment: (e) => ({ mcpServers: { [e.name]: { url: e.url, headers: { Authorization: bearer(e, `\${env:${KEY_ENV}}`) } } } }),
    keyNote: () => `Cursor fills \${env:${KEY_ENV}} from the environment it was started in: export ${KEY_ENV} before launching Cursor.`,
  },
  vscode: {
    title: 'VS Code',
    where: '.vscode/mcp.json (in the workspace)',
    path: () => join(process.cwd(), '.vscode/mcp.json'),
    format: 'json',
    fragment: (e) => ({
      ...(e.key ? {} : { inputs: [{ type: 'promptString', id: `${e.name}-key`, description: 'Toolgate key', password: true }] }),
      servers: { [e.name]: { type: 'http', url: e.url, headers: { Authorization: bearer(e, `\${input:${e.name}-key}`) } } },
    }),
    keyNote: () => 'VS Code asks for the key once (a password prompt) and keeps it in its secret storage.',
  },
  'claude-desktop': {
    title: 'Claude Desktop',
    where: 'claude_desktop_config.json (macOS ~/Library/Application Support/Claude/, Windows %APPDATA%\\Claude\\)',
    path: claudeDesktopPath,
    format: 'json',
    fragment: (e) => ({
      mcpServers: {
        [e.name]: {
          command: e.launch.command,
          args: [...e.launch.args, 'bridge', '--url', e.url],
          ...(e.key ? { env: { [KEY_ENV]: e.key } } : {}),
        },
      },
    }),
    keyNote: () =>
      `Claude Desktop speaks only stdio, so it runs \`toolgate bridge\`, which reads ${KEY_ENV} from the environment Claude Desktop was started in (or pass --inline-key to put it in the entry's env).`,
  },
  'claude-code': {
    title: 'Claude Code',
    where: '.mcp.json (in the project)',
    path: () => join(process.cwd(), '.mcp.json'),
    format: 'json',
    fragment: (e) => ({
      mcpServers: { [e.name]: { type: 'http', url: e.url, headers: { Authorization: bearer(e, `\${${KEY_ENV}}`) } } },
    }),
    keyNote: () => `Claude Code expands \${${KEY_ENV}} from its environment when it reads .mcp.json.`,
    // Project scope writes the same .mcp.json; single quotes keep the variable for Claude Code to expand.
    command: (e) =>
      `claude mcp add --transport http --scope project ${e.name} ${e.url} --header ${e.key ? `"Authorization: Bearer ${e.key}"` : `'Authorization: Bearer \${${KEY_ENV}}'`}`,
  },
  codex: {
    title: 'Codex',
    where: '~/.codex/config.toml',
    path: () => join(homedir(), '.codex/config.toml'),
    format: 'toml',
    fragment: (e) => ({
      mcp_servers: {
        [e.name]: e.key ? { url: e.url, http_headers: { Authorization: bearer(e, '') } } : { url: e.url, bearer_token_env_var: KEY_ENV },
      },
    }),
    keyNote: () => `Codex reads the bearer token from ${KEY_ENV} in its environment.`,
  },
  windsurf: {
    title: 'Windsurf',
    where: '~/.codeium/windsurf/mcp_config.json',
    path: () => join(homedir(), '.codeium/windsurf/mcp_config.json'),
    format: 'json',
    fragment: (e) => ({
      mcpServers: { [e.name]: { serverUrl: e.url, headers: { Authorization: bearer(e, `\${env:${KEY_ENV}}`) } } },
    }),
    keyNote: () => `Windsurf fills \${env:${KEY_ENV}} from the environment it was started in.`,
  },
};
