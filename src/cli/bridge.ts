import { Bridge } from '../bridge/relay.js';
import { str, UsageError, type Command } from './command.js';
import { DEFAULT_GATEWAY, KEY_ENV, mcpEndpoint } from './endpoint.js';

export const command: Command = {
  name: 'bridge',
  usage: `toolgate bridge --url URL [--server NAME]

  A stdio MCP server relaying to a Toolgate over Streamable HTTP, for clients that only speak
  stdio (Claude Desktop). The key is read from ${KEY_ENV}. Both protocol eras; progress,
  cancellation, sampling, elicitation, roots and list_changed pass through; it reconnects
  when the gateway restarts. Diagnostics go to stderr.

      --url URL       the gateway (e.g. ${DEFAULT_GATEWAY}; /mcp is added) or its MCP endpoint
      --server NAME   one server (/mcp/NAME) instead of the aggregate`,
  options: { url: { type: 'string' }, server: { type: 'string' } },
  async run(args) {
    const given = str(args, 'url');
    if (!given) throw new UsageError('--url URL is required');
    let url: URL;
    try {
      url = mcpEndpoint(given, str(args, 'server'));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const key = process.env[KEY_ENV];
    if (!key) process.stderr.write(`toolgate bridge: ${KEY_ENV} is not set; the gateway will refuse every request (401)\n`);
    const bridge = new Bridge({ url, key, input: process.stdin, output: process.stdout, log: (l) => process.stderr.write(l + '\n') });
    process.stderr.write(`toolgate bridge: relaying stdio to ${url.href}\n`);
    await bridge.done;
    return 0;
  },
};
