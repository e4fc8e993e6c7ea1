import { Agent, fetch as undiciFetch } from 'undici';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/types.js';
import type { Credentials } from './credentials/types.js';
import { egressAgent } from './egress-agent.js';
import { EgressRefused, EMPTY_ALLOWLIST, type Allowlist, type Resolver } from './egress.js';
import { StreamableHttpTransport } from './http.js';
import type { Redactor } from './redact.js';
import { SseTransport } from './sse.js';
import { StdioTransport } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

export interface TransportLimits {
  /** The largest response body or event accepted from an HTTP upstream (toolgate_settings.max_upstream_response_bytes). */
  maxResponseBytes?: number;
  /** The SSRF guard for API-registered servers (`origin: 'api'`): what they may reach, and how names resolve. */
  egress?: { allowlist?: Allowlist; resolve?: Resolver };
}

/**
 * Builds transports for upstream sessions. One keep-alive agent serves every HTTP upstream, so all
 * sessions to an origin share warm connections.
 */
export function transportFactory(limits: TransportLimits = {}): {
  create: (server: ServerConfig, credentials: Credentials, log: Logger, redactor?: Redactor) => UpstreamTransport;
  /** fetch through the SSRF guard, for what an API-registered server makes the gateway fetch besides MCP (OAuth token endpoints). */
  guardedFetch: typeof fetch;
  close(): Promise<void>;
} {
  const agentOptions = { keepAliveTimeout: 30_000, connections: 64, pipelining: 1 };
  const agent = new Agent(agentOptions);
  // API-registered servers never share the trusted agent's connections: theirs are checked on connect.
  let guarded: Agent | undefined;
  const guardedAgent = () => (guarded ??= egressAgent(limits.egress?.allowlist ?? EMPTY_ALLOWLIST, limits.egress?.resolve, agentOptions));
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
        dispatcher: server.origin === 'api' ? guardedAgent() : agent,
        redactor,
        maxResponseBytes: limits.maxResponseBytes,
      };
      return server.transport === 'sse' ? new SseTransport(opts) : new StreamableHttpTransport(opts);
    },
    guardedFetch: ((url: string, init?: RequestInit) =>
      undiciFetch(url, { ...(init as object), dispatcher: guardedAgent() }).catch((err: Error) => {
        // fetch wraps the refusal in "fetch failed"; the refusal itself says what to change.
        throw err.cause instanceof EgressRefused ? err.cause : err;
      })) as unknown as typeof fetch,
    close: async () => {
      await Promise.all([agent.close(), guarded?.close()]);
    },
  };
}
