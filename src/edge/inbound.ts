import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../caller/keys.js';
import type { RouteScope, Router } from '../router/route.js';
import type { ExchangeStore } from './mrtr.js';
import type { HeadersFor } from './call-context.js';
import type { InputLimits } from './input-limits.js';
import type { RequestLog } from './request-log.js';
import type { SessionStore } from './session-store.js';

/** What every MCP transport of the edge (Streamable HTTP of both eras, legacy HTTP+SSE) uses. */
export interface TransportDeps {
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  exchanges: ExchangeStore;
  router: Router;
  sessions: SessionStore;
  limits: InputLimits;
  /** Per-request upstream headers derived from the client's HTTP headers. */
  upstreamHeaders(incoming: IncomingMessage['headers']): HeadersFor;
}

/** One inbound HTTP request on an MCP route, after the caller and the scope are known. */
export interface Inbound {
  req: IncomingMessage;
  res: ServerResponse;
  caller: Caller;
  scope: RouteScope;
  log: RequestLog;
}
