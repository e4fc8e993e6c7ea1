import { Agent } from 'undici';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import type { Credentials } from './credentials/types.js';
import { StreamableHttpTransport } from './http.js';
import type { Redactor } from './redact.js';
import { SseTransport } from './sse.js';
import { StdioTransport } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

export interface TransportLimits {
  /** The largest response body or event accepted from an HTTP upstream (toolgate_settings.max_upstream_response_bytes). */
  maxResponseBytes?: number;
}

/**
 * Builds transports for upstream sessions. One keep-alive agent serves every HTTP upstream, so all
 * sessions to an origin share warm connections.
 */
export function transportFactory(limits: TransportLimits = {}): {
  create: (server: ServerConfig, credentials: Credentials, log: Logger, redactor?: Redactor) => UpstreamTransport;
  close(): Promise<void>;
} {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  return {
    create(server, credentials, log, redactor) {
      if (server.transport === 'stdio') {
        return new StdioTransport({
          command: server.command!,
          args: server.args,
          cwd: server.cwd,
          env: server.env,
          serverName: server.name,
          log,
          redactor,
        });
      }
      const opts = {
        url: server.url!,
        credentials,
        serverName: server.name,
        timeoutMs: server.timeoutMs,
        log,
        dispatcher: agent,
        redactor,
        maxResponseBytes: limits.maxResponseBytes,
      };
      return server.transport === 'sse' ? new SseTransport(opts) : new StreamableHttpTransport(opts);
    },
    close: () => agent.close(),
  };
}
