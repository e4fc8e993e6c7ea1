import { McpError } from '../mcp/jsonrpc.js';
import { UpstreamError } from './transport.js';

/** Why a server is not ready, in a word safe to show anyone (readiness without a key shows only this). */
export type HealthErrorClass = 'connect' | 'timeout' | 'http-status' | 'unauthorized' | 'protocol' | 'closed';

/** One upstream's health as data the edge renders. */
export interface UpstreamHealth {
  state: 'unknown' | 'ready' | 'down';
  errorClass?: HealthErrorClass;
  /** The failure in words, with every configured secret of the server redacted: for operators only. */
  error?: string;
  /** Upstream sessions open now (stdio: child processes). */
  sessions: number;
}

export function classOf(err: unknown): HealthErrorClass {
  if (err instanceof UpstreamError) {
    switch (err.failure) {
      case 'unreachable':
        return 'connect';
      case 'session-lost':
        return 'http-status';
      default:
        return err.failure;
    }
  }
  // A session's own timeout (UpstreamTimeoutError) is the only McpError that reaches health with a code of its own.
  if (err instanceof McpError) return err.code === -32001 ? 'timeout' : 'protocol';
  return 'connect';
}
