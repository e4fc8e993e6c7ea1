import { META } from '../mcp/modern.js';
import { LazyAbort } from '../mcp/lazy-abort.js';
import type { RouteSession } from '../router/route.js';
import { finishError, forwardParams, nameOf, SERVER_INFO, stamp, type ModernRequest } from './modern-reply.js';
import { Exchange } from './mrtr.js';
import { noteUpstreamTime } from './request-log.js';
import { FORWARDED_HEADER, forwardRetry } from './replica-forward.js';

type Result = Record<string, unknown>;

/**
 * Any other 2026-07-28 request, bridged to the route. Upstreams of the 2025 era are reached over
 * pooled sessions; their server-to-client requests become `input_required` rounds, and the
 * client's retry (with our requestState) resumes the call here, or on the replica holding it.
 */
export async function bridgeCall({ inb, deps, msg, profile, ctx, reply }: ModernRequest): Promise<void> {
  const { req, res, caller } = inb;
  const capabilities = profile.capabilities;
  const name = nameOf(msg);
  const given = typeof msg.params?.requestState === 'string' ? msg.params.requestState : undefined;
  // Our bridge's state resumes a call held here; any other state belongs to a 2026 upstream and
  // travels on (wrapped) with the client's inputResponses, for the upstream's lease to unwrap.
  const state = given !== undefined && deps.exchanges.tokens.isOurs(given) ? given : undefined;
  const holder = state !== undefined && req.headers[FORWARDED_HEADER] === undefined ? deps.exchanges.holder(state) : undefined;
  if (holder) return forwardRetry(req, res, msg, holder);
  const params = forwardParams(msg.params, state === undefined);
  let exchange: Exchange;
  let call: Promise<Result>;
  let close: () => void;
  try {
    if (state !== undefined) {
      // A retry: only state we minted resumes anything; an upstream's own state would have been wrapped.
      const s = deps.exchanges.resume(state, { k: caller.keyId, m: msg.method, n: name });
      exchange = s.exchange;
      call = s.call;
      close = s.close;
      exchange.answer(msg.params?.inputResponses, capabilities);
    } else {
      exchange = new Exchange(capabilities);
      const route: RouteSession = deps.router.open(inb.scope, profile, exchange);
      // The client's cancel ends the upstream call (notifications/cancelled), and so does the exchange's
      // abandonment after its expiry. Following both costs two array entries; both cancels die with the call.
      const signal = new LazyAbort();
      signal.follow(ctx.signal);
      signal.follow(exchange.signal);
      // No stream relay: what a 2025 upstream streams (its requests to the client) becomes input_required
      // here, a complete answer; a stateless client has no session to resume a stream on anyway.
      call = route.request(msg.method, params, {
        caller: ctx.caller,
        headersFor: ctx.headersFor,
        onProgress: ctx.onProgress,
        signal,
      });
      close = () => void route.close();
    }
  } catch (err) {
    return finishError(reply, msg, err, inb.log);
  }
  const started = performance.now();
  const settled = call.then(
    (result) => {
      noteUpstreamTime(inb.log, started);
      return { done: true as const, result };
    },
    (error: unknown) => {
      noteUpstreamTime(inb.log, started);
      return { done: true as const, error };
    },
  );
  const outcome = await Promise.race([settled, exchange.inputNeeded().then(() => ({ done: false as const }))]);
  if (!outcome.done) {
    const requestState = deps.exchanges.suspend(exchange, call, close, { x: exchange.id, k: caller.keyId, m: msg.method, n: name });
    return reply.finish({
      jsonrpc: '2.0',
      id: msg.id,
      result: {
        resultType: 'input_required',
        inputRequests: exchange.inputRequests(),
        requestState,
        _meta: { [META.serverInfo]: SERVER_INFO },
      },
    });
  }
  close();
  if ('error' in outcome) return finishError(reply, msg, outcome.error, inb.log);
  reply.finish(stamp(msg, outcome.result));
}
