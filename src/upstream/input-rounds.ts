import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import { META } from '../mcp/modern.js';
import { missingCapabilities } from '../mcp/input-requests.js';
import type { CallContext } from './connection.js';
import type { RequestOptions } from './connection.js';

type Result = Record<string, unknown>;
type Send = (method: string, params: Result | undefined, opts: RequestOptions) => Promise<Result>;

const MAX_INPUT_ROUNDS = 8;
const WRAPPED_STATE_TTL_MS = 10 * 60_000;

function modernName(method: string, params: Result | undefined): string {
  const v = params?.name ?? params?.uri ?? params?.taskId;
  return typeof v === 'string' ? v : method;
}

/**
 * A 2026-07-28 upstream asks for client input with `input_required` results. A stateless client
 * gets them as they are, with the upstream's requestState wrapped so that no other key can replay
 * it and it cannot be sent to another server; a session client is asked with real requests and
 * the upstream is retried with the answers and its exact requestState.
 */
export async function callWithInputRounds(
  send: Send,
  method: string,
  params: Result | undefined,
  opts: RequestOptions,
  ctx: CallContext,
): Promise<Result> {
  const binding = { k: opts.callerKeyId ?? '', s: ctx.server, m: method, n: modernName(method, params) };
  let p = params;
  if (ctx.level !== undefined) {
    // Only this client's requests carry its level: the server logs for them and no one else.
    p = { ...p, _meta: { ...(isObject(p?._meta) ? p._meta : {}), [META.logLevel]: ctx.level } };
  }
  // Messages on this request's own stream are this client's, whoever else shares the session.
  opts = { ...opts, onNotification: (msg) => ctx.deliverOwn(msg) };
  const given = p?.requestState;
  if (typeof given === 'string') {
    const unwrapped = ctx.stateTokens?.verify(given);
    if (!unwrapped || unwrapped.k !== binding.k || unwrapped.s !== binding.s || unwrapped.m !== binding.m || unwrapped.n !== binding.n) {
      throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState');
    }
    const { requestState: _wrapped, ...rest } = p!;
    p = typeof unwrapped.inner === 'string' ? { ...rest, requestState: unwrapped.inner } : rest;
  }
  for (let round = 0; round < MAX_INPUT_ROUNDS; round++) {
    const result = await send(method, p, opts);
    if (result.resultType !== 'input_required') return result;
    if (ctx.stateless) return relayToStateless(result, binding, ctx);
    const requests = isObject(result.inputRequests) ? result.inputRequests : {};
    const inputResponses: Result = {};
    for (const [key, r] of Object.entries(requests)) {
      if (!isObject(r) || typeof r.method !== 'string') continue;
      inputResponses[key] = await ctx.sink.request({
        jsonrpc: '2.0',
        id: 0,
        method: r.method,
        ...(isObject(r.params) ? { params: r.params } : {}),
      });
    }
    const { requestState: _old, inputResponses: _prev, ...rest } = p ?? {};
    p = { ...rest, inputResponses, ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}) };
  }
  throw new McpError(ErrorCode.InternalError, `upstream "${ctx.server}" kept asking for input after ${MAX_INPUT_ROUNDS} rounds`);
}

function relayToStateless(result: Result, binding: Record<string, string>, ctx: CallContext): Result {
  // Never relay an input request of a kind this request did not declare (the upstream should not ask).
  const missing = missingCapabilities(result.inputRequests, ctx.capabilities);
  if (missing) {
    throw new McpError(
      ErrorCode.MissingRequiredClientCapability,
      `upstream "${ctx.server}" needs client capabilities this request did not declare: ${Object.keys(missing).join(', ')}`,
      { requiredCapabilities: missing },
    );
  }
  // Wrapped even when the upstream sent none: the retry is then still bound to this caller.
  const tokens = ctx.stateTokens;
  if (!tokens) throw new McpError(ErrorCode.InternalError, 'no state key configured');
  const inner = typeof result.requestState === 'string' ? result.requestState : null;
  return { ...result, requestState: tokens.sign({ ...binding, inner }, WRAPPED_STATE_TTL_MS) };
}
