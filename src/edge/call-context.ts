import type { Caller } from '../caller/keys.js';
import { isObject, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { NEVER_ABORTED, type LazyAbort } from '../mcp/lazy-abort.js';
import type { CallContext } from '../router/route.js';
import type { ReplyChannel } from './responder.js';

/** Per-request upstream headers for one server (x-mcp-{server}-*, extra_headers). */
export type HeadersFor = CallContext['headersFor'];

/**
 * The context one client request carries into its route, for every era and transport: who asks,
 * what cancels it, the per-request upstream headers, and the progress relay (upstream progress,
 * stripped of its token by the router, goes back with the client's own token ahead of the answer).
 */
export function callContext(
  caller: Caller,
  headersFor: HeadersFor,
  msg: JsonRpcRequest | undefined,
  reply: ReplyChannel | undefined,
  abort?: LazyAbort,
): CallContext {
  const meta = msg && isObject(msg.params) && isObject(msg.params._meta) ? msg.params._meta : undefined;
  const token = meta?.progressToken;
  const onProgress =
    token === undefined || !reply
      ? undefined
      : (p: Record<string, unknown>) =>
          void reply.related({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...p, progressToken: token } });
  const relay = reply?.relay;
  return { caller, signal: abort ?? NEVER_ABORTED, headersFor, onProgress, relay };
}
