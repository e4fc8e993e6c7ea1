import { Agent } from 'undici';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import type { Credentials } from './credentials/types.js';
import { StreamableHttpTransport } from './http.js';
import { SseTransport } from './sse.js';
import { StdioTransport } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

/**
 * Builds transports for upstream sessions. One keep-alive agent serves every HTTP upstream, so all
 * sessions to an origin share warm connections.
 */
export function transportFactory(): {
  create: (server: ServerConfig, credentials: Credentials, log: Logger) => UpstreamTransport;
  close(): Promise<void>;
} {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  return {
    create(server, credentials, log) {
      switch (server.transport) {
        case 'stdio':
          return new StdioTransport({
            command: server.command!,
            args: server.args,
            cwd: server.cwd,
            env: server.env,
            serverName: server.name,
            log,
          });
        case 'sse':
          return new SseTransport({
            url: server.url!,
            credentials,
            serverName: server.name,
            timeoutMs: server.timeoutMs,
            log,
            dispatcher: agent,
          });
        default:
          return new StreamableHttpTransport({
            url: server.url!,
            credentials,
            serverName: server.name,
            timeoutMs: server.timeoutMs,
            log,
            dispatcher: agent,
          });
      }
    },
    close: () => agent.close(),
  };
}
