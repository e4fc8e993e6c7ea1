import { randomBytes } from 'node:crypto';
import { ErrorCode, McpError, isObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { INPUT_CAPABILITY as CAPABILITY } from '../mcp/input-requests.js';
import { LazyAbort, type Cancel } from '../mcp/lazy-abort.js';
import type { TokenKeys } from '../mcp/sealed.js';
import { StateTokens } from '../mcp/state-token.js';
import type { ClientSink } from '../upstream/lease.js';

type Result = Record<string, unknown>;

/** How long a client has to answer an `input_required` before the upstream is told no (default of `request_state_ttl_seconds`). */
export const INPUT_TTL_MS = 5 * 60_000;

interface PendingInput {
  key: string;
  msg: JsonRpcRequest;
  resolve(result: Result): void;
  reject(err: Error): void;
}

/**
 * One stateless client call that an upstream (2025 era, holding a session) interrupted with
 * server-to-client requests. The upstream call keeps running; each interruption becomes an
 * `input_required` result, and the client's retry (same method, `inputResponses` + our
 * `requestState`) answers the waiting upstream requests and resumes.
 */
export class Exchange implements ClientSink {
  readonly id = randomBytes(12).toString('base64url');
  private readonly pending = new Map<string, PendingInput>();
  private nextKey = 1;
  private waiter?: () => void;
  private expiry?: NodeJS.Timeout;
  private readonly abandoned = new LazyAbort();

  constructor(private capabilities: Result) {}

  /**
   * Aborted once the client has abandoned the exchange: the upstream call it started must then be
   * cancelled (`notifications/cancelled`), or it would hold its pooled upstream session forever.
   */
  get signal(): Cancel {
    return this.abandoned;
  }

  notify(_msg: JsonRpcNotification): void {
    // Unsolicited notifications reach stateless clients through subscriptions/listen, not calls.
  }

  request(msg: JsonRpcRequest): Promise<Result> {
    // Object.hasOwn: a method named like a prototype property ("constructor") must not match.
    const cap = Object.hasOwn(CAPABILITY, msg.method) ? CAPABILITY[msg.method] : undefined;
    if (!cap || !(cap in this.capabilities)) {
      // Never ask a client for input of a kind it did not declare in this request.
      return Promise.reject(new McpError(ErrorCode.MethodNotFound, `Client does not support ${msg.method}`));
    }
    return new Promise((resolve, reject) => {
      const key = `input-${this.nextKey++}`;
      this.pending.set(key, { key, msg, resolve, reject });
      this.waiter?.();
    });
  }

  /** Resolves when an upstream request needs the client (or immediately if one already does). */
  inputNeeded(): Promise<void> {
    if (this.pending.size > 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The `inputRequests` map of an input_required result. */
  inputRequests(): Result {
    const out: Result = {};
    for (const p of this.pending.values()) {
      out[p.key] = p.msg.params === undefined ? { method: p.msg.method } : { method: p.msg.method, params: p.msg.params };
    }
    return out;
  }

  /** The retry's answers; keys we did not ask are ignored, missing ones are asked again. */
  answer(inputResponses: unknown, capabilities: Result): void {
    this.capabilities = capabilities;
    this.waiter = undefined;
    if (!isObject(inputResponses)) return;
    for (const [key, value] of Object.entries(inputResponses)) {
      const p = this.pending.get(key);
      if (!p || !isObject(value)) continue;
      this.pending.delete(key);
      p.resolve(value);
    }
  }

  /**
   * Abandoned: the upstream hears a decline (elicitation) or an error for what it asked, then its
   * call is cancelled through `signal`. The cancel waits one turn of the event loop so the answers,
   * queued on the same upstream transport, go out before it.
   */
  abandon(reason = 'the client did not retry the input_required request in time'): void {
    for (const p of this.pending.values()) {
      if (p.msg.method === 'elicitation/create') p.resolve({ action: 'decline' });
      else p.reject(new McpError(ErrorCode.RequestTimeout, 'the client did not answer the input request in time'));
    }
    this.pending.clear();
    this.waiter = undefined;
    if (!this.abandoned.aborted) setImmediate(() => this.abandoned.abort(reason));
  }

  armExpiry(onExpire: () => void, ms: number): void {
    this.disarm();
    this.expiry = setTimeout(onExpire, ms);
    this.expiry.unref();
  }

  disarm(): void {
    if (this.expiry) clearTimeout(this.expiry);
  }
}

interface Suspended {
  exchange: Exchange;
  call: Promise<Result>;
  close(): void;
}

/** Signed requestState minted by Toolgate, bound to the caller's key, the method and the name. */
export interface BridgeState {
  x: string; // exchange id
  k: string; // caller key id
  m: string; // method
  n: string; // name or uri
  r?: string; // the replica holding the call (its replica_url), when configured
}

/**
 * Exchanges waiting for a client's retry. The requestState is signed with the configured secret, so
 * any replica can verify it; the upstream call itself lives in the process that started it.
 */
export class ExchangeStore {
  private readonly waiting = new Map<string, Suspended>();
  readonly tokens: StateTokens;

  constructor(
    keys: TokenKeys,
    /** Lifetime of each requestState and of the wait for the retry it allows (`request_state_ttl_seconds`). */
    private readonly ttlMs = INPUT_TTL_MS,
    /** This replica's address (`replica_url`): put in the state so another replica can forward the retry here. */
    private readonly replicaUrl?: string,
  ) {
    this.tokens = new StateTokens(keys, 'tg1');
  }

  suspend(exchange: Exchange, call: Promise<Result>, close: () => void, state: BridgeState): string {
    this.waiting.set(exchange.id, { exchange, call, close });
    exchange.armExpiry(() => {
      this.waiting.delete(exchange.id);
      exchange.abandon();
      call.catch(() => {}).finally(close);
    }, this.ttlMs);
    const { x, k, m, n } = state;
    // Bound to the caller's key, the method and the name: a retry with anything else opens nothing.
    return this.tokens.seal(this.replicaUrl ? { x, r: this.replicaUrl } : { x }, { ttlMs: this.ttlMs, bind: { k, m, n } });
  }

  /** The suspended exchange a retry resumes, after checking its requestState; throws -32602 otherwise. */
  resume(requestState: string, expect: Omit<BridgeState, 'x'>): Suspended {
    const state = this.tokens.open(requestState, { k: expect.k, m: expect.m, n: expect.n }) as BridgeState | undefined;
    if (!state) {
      throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState');
    }
    const s = this.waiting.get(state.x);
    if (!s) throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState: the interrupted call is no longer waiting here');
    this.waiting.delete(state.x);
    s.exchange.disarm();
    return s;
  }

  /** The replica holding the call a valid requestState resumes, when that is not this one. */
  holder(requestState: string): string | undefined {
    const state = this.tokens.verify(requestState) as BridgeState | undefined;
    return state?.r !== undefined && state.r !== this.replicaUrl ? state.r : undefined;
  }

  closeAll(): void {
    for (const s of this.waiting.values()) {
      s.exchange.disarm();
      s.exchange.abandon();
      s.close();
    }
    this.waiting.clear();
  }
}
