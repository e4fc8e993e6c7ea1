import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENTS, type ClientSpec, type EntryInput } from './clients.js';
import { str, UsageError, type Command } from './command.js';
import { DEFAULT_GATEWAY, KEY_ENV, mcpEndpoint } from './endpoint.js';
import { mergeJson, mergeToml, renderToml } from './merge.js';

const NAMES = Object.keys(CLIENTS);

export const command: Command = {
  name: 'connect',
  usage: `toolgate connect CLIENT [--url ${DEFAULT_GATEWAY}] [--server NAME] [--name toolgate] [--write [--file PATH]] [--inline-key]

  CLIENT: ${NAMES.join(', ')}
  Prints Toolgate's entry for that client's own config file (at the path its docs give);
  with --write, merges it into that file, keeping every other entry.

      --url URL       the gateway (default ${DEFAULT_GATEWAY}; /mcp is added)
      --server NAME   one server (/mcp/NAME) instead of the aggregate
      --name NAME     the entry's name in the client's config (default toolgate)
      --write         merge into the client's config file instead of printing
      --file PATH     the file --write merges into (default: the client's documented path)
      --inline-key    put the key itself (from ${KEY_ENV}) in the file; otherwise the
                      client's own variable or prompt mechanism supplies it`,
  options: {
    url: { type: 'string' },
    server: { type: 'string' },
    name: { type: 'string' },
    write: { type: 'boolean' },
    file: { type: 'string' },
    'inline-key': { type: 'boolean' },
  },
  maxPositionals: 1,
  async run(args) {
    const client = args.positionals[0];
    if (!client) throw new UsageError(`name the client (${NAMES.join(', ')})`);
    const spec = CLIENTS[client];
    if (!spec) throw new UsageError(`unknown client "${client}" (known: ${NAMES.join(', ')})`);
    let url: URL;
    try {
      url = mcpEndpoint(str(args, 'url') ?? DEFAULT_GATEWAY, str(args, 'server'));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let key: string | undefined;
    if (args.values['inline-key']) {
      key = process.env[KEY_ENV];
      if (!key) throw new UsageError(`--inline-key takes the key from ${KEY_ENV}; set it first`);
    }
    const entry: EntryInput = { url: url.href, name: str(args, 'name') ?? 'toolgate', key, launch: bridgeLaunch() };
    if (str(args, 'file') && !args.values.write) throw new UsageError('--file goes with --write');
    if (args.values.write) return write(spec, entry, str(args, 'file') ?? spec.path());
    process.stdout.write(snippet(spec, entry));
    process.stderr.write(notes(spec, entry, client));
    return 0;
  },
};

/** The text a user pastes: the fragment in the client's own format. */
export function snippet(spec: ClientSpec, e: EntryInput): string {
  const fragment = spec.fragment(e);
  return spec.format === 'toml' ? renderToml(fragment) : JSON.stringify(fragment, null, 2) + '\n';
}

function notes(spec: ClientSpec, e: EntryInput, client: string): string {
  const lines = [`# ${spec.title}: merge the above into ${spec.where}, or run: toolgate connect ${client} --write`];
  if (spec.command) lines.push(`# or add it with: ${spec.command(e)}`);
  lines.push(`# ${e.key ? 'The key is inline: keep this file private.' : spec.keyNote(e)}`);
  return lines.join('\n') + '\n';
}

async function write(spec: ClientSpec, e: EntryInput, file: string): Promise<number> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fragment = spec.fragment(e);
  let merged: string;
  if (spec.format === 'toml') merged = mergeToml(text, fragment);
  else {
    let existing: Record<string, unknown> = {};
    if (text.trim()) {
      try {
        existing = JSON.parse(text) as Record<string, unknown>;
      } catch (err) {
        process.stderr.write(
          `toolgate connect: ${file} is not valid JSON (${(err as Error).message}); fix it first, nothing was written\n`,
        );
        return 1;
      }
      if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) {
        process.stderr.write(`toolgate connect: ${file} does not hold a JSON object; nothing was written\n`);
        return 1;
      }
    }
    merged = JSON.stringify(mergeJson(existing, fragment), null, 2) + '\n';
  }
  await mkdir(dirname(file), { recursive: true });
  // Write beside and rename, so a crash never leaves the client's config half-written.
  const tmp = `${file}.toolgate-${process.pid}.tmp`;
  await writeFile(tmp, merged, { mode: e.key ? 0o600 : 0o644 });
  await rename(tmp, file);
  process.stderr.write(
    `toolgate connect: ${spec.title} entry "${e.name}" written to ${file}\n# ${e.key ? 'The key is inline: keep this file private.' : spec.keyNote(e)}\n`,
  );
  return 0;
}

/**
 * How a stdio client starts this same toolgate: node and the entry point, absolute, so it works
 * from whatever directory the client launches it in. From source, tsx is loaded by absolute URL.
 */
export function bridgeLaunch(): { command: string; args: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./main.ts', here))] };
  }
  return { command: process.execPath, args: [fileURLToPath(new URL('./main.js', here))] };
}
