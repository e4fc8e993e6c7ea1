import {
  ErrorCode,
  McpError,
  isNotification,
  isObject,
  isResponse,
  type JsonRpcMessage,
  type JsonRpcNotification,
} from '../mcp/jsonrpc.js';
import { META } from '../mcp/modern.js';
import { UpstreamError } from './transport.js';

type Result = Record<string, unknown>;

/** The `params.notifications` of a `subscriptions/listen` request (SubscriptionFilter). */
export interface ListenFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** What a listen needs from its session: the wire, and where change notifications go. */
export interface ListenIo {
  readonly server: string;
  /**
   * POSTs `subscriptions/listen` with this id and filter; every message read from its response stream
   * goes to `onmessage`. Resolves when the stream ends after a final result, rejects when it drops or
   * `signal` aborts it.
   */
  open(id: string, filter: ListenFilter, onmessage: (msg: JsonRpcMessage) => void, signal: AbortSignal): Promise<void>;
  /** A change notification heard on the listen, subscription id already removed. */
  deliver(note: JsonRpcNotification): void;
  warn(obj: object, msg: string): void;
}

interface Stream {
  id: string;
  /** The uris asked for, sorted: what makes two filters the same. */
  uris: string[];
  abort: AbortController;
  acked: Promise<ListenFilter>;
  honoured?: ListenFilter;
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';

/** The list_changed kinds a 2026-07-28 server's discover capabilities say it announces. */
export function listChangedKinds(capabilities: Result): ListenFilter {
  const on = (k: string) => isObject(capabilities[k]) && (capabilities[k] as Result).listChanged === true;
  const f: ListenFilter = {};
  if (on('tools')) f.toolsListChanged = true;
  if (on('prompts')) f.promptsListChanged = true;
  if (on('resources')) f.resourcesListChanged = true;
  return f;
}

/**
 * The one `subscriptions/listen` a 2026-07-28 upstream session keeps open: the list changes the server
 * announces, plus the resources the session's clients subscribed to. It replaces the 2025 GET stream
 * and `resources/subscribe`.
 *
 * A change of the subscribed set is applied make-before-break: the new listen is opened and, once the
 * server acknowledged it, the old one is closed. Only one listen stays open, and no update falls into
 * a gap between the two (at worst one arrives twice, which list_changed and resources/updated tolerate).
 * A stream that drops without a final result is reopened with backoff; one the server ended with a
 * result, or refused, stays closed until the subscribed set changes.
 */
export class UpstreamListen {
  private readonly uris = new Set<string>();
  private active?: Stream;
  private readonly opening = new Set<Stream>();
  /** Changes are applied one at a time, each against the state of the moment it runs. */
  private chain: Promise<unknown> = Promise.resolve();
  private enabled = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_FIRST_MS;
  private nextId = 1;

  constructor(
    private readonly kinds: ListenFilter,
    private readonly io: ListenIo,
    /** A server that accepted the listen but never acknowledges it must not hold a subscribe forever. */
    private readonly ackTimeoutMs: number,
  ) {}

  /** Start listening (a session in use, not a probe); the listen opens if there is anything to hear. */
  start(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.refresh().catch(() => {});
  }

  /** Adds a resource; resolves once the server acknowledged a listen that includes it. */
  async subscribe(uri: string): Promise<void> {
    this.enabled = true;
    if (this.uris.has(uri) && this.active?.honoured?.resourceSubscriptions?.includes(uri)) return;
    this.uris.add(uri);
    let honoured: ListenFilter | undefined;
    try {
      honoured = await this.refresh();
    } catch (err) {
      this.uris.delete(uri);
      throw err;
    }
    if (!honoured?.resourceSubscriptions?.includes(uri)) {
      this.uris.delete(uri);
      this.refresh().catch(() => {});
      throw new McpError(ErrorCode.InvalidRequest, `upstream "${this.io.server}" did not accept a subscription to ${uri}`);
    }
  }

  /** Removes a resource; the listen is reopened without it (or closed when nothing is left to hear). */
  async unsubscribe(uri: string): Promise<void> {
    if (!this.uris.delete(uri)) return;
    // The old listen keeps running if the new one cannot open: an extra update is filtered downstream.
    await this.refresh().catch(() => {});
  }

  /** The filter an open listen was acknowledged with (tests and diagnostics). */
  get honoured(): ListenFilter | undefined {
    return this.active?.honoured;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const reason = new UpstreamError('closed', `upstream "${this.io.server}" listen closed`);
    for (const s of this.opening) s.abort.abort(reason);
    this.active?.abort.abort(reason);
    this.active = undefined;
  }

  private refresh(): Promise<ListenFilter | undefined> {
    const run = this.chain.then(() => this.reconcile());
    this.chain = run.catch(() => {});
    return run;
  }

  private wanted(): { filter: ListenFilter; uris: string[] } | undefined {
    if (!this.enabled) return undefined;
    const uris = [...this.uris].sort();
    const filter: ListenFilter = { ...this.kinds };
    if (uris.length) filter.resourceSubscriptions = uris;
    return Object.keys(filter).length ? { filter, uris } : undefined;
  }

  private async reconcile(): Promise<ListenFilter | undefined> {
    if (this.closed) return undefined;
    const want = this.wanted();
    if (!want) {
      this.active?.abort.abort(new UpstreamError('closed', 'nothing left to listen for'));
      this.active = undefined;
      return undefined;
    }
    if (this.active && sameList(this.active.uris, want.uris)) return this.active.honoured;
    const next = this.openStream(want.filter, want.uris);
    let honoured: ListenFilter;
    try {
      honoured = await next.acked;
    } catch (err) {
      this.opening.delete(next);
      next.abort.abort(err);
      // A listen that could not be (re)opened for a transport reason is tried again while wanted;
      // a refusal by the server (a JSON-RPC error) is not.
      if (!(err instanceof McpError) && !this.active && !this.closed) this.scheduleRetry();
      throw err;
    }
    this.opening.delete(next);
    if (this.closed) {
      next.abort.abort(new UpstreamError('closed', 'listen closed'));
      return undefined;
    }
    const old = this.active;
    this.active = next;
    old?.abort.abort(new UpstreamError('closed', 'listen replaced'));
    return honoured;
  }

  private openStream(filter: ListenFilter, uris: string[]): Stream {
    const id = `toolgate-listen-${this.nextId++}`;
    let ack!: (f: ListenFilter) => void;
    let refuse!: (e: Error) => void;
    const stream: Stream = {
      id,
      uris,
      abort: new AbortController(),
      acked: new Promise<ListenFilter>((resolve, reject) => {
        ack = resolve;
        refuse = reject;
      }),
    };
    stream.acked.catch(() => {});
    this.opening.add(stream);
    const ackTimer = setTimeout(() => {
      const err = new UpstreamError(
        'timeout',
        `upstream "${this.io.server}" did not acknowledge subscriptions/listen within ${this.ackTimeoutMs / 1000} s`,
      );
      refuse(err);
      stream.abort.abort(err);
    }, this.ackTimeoutMs);
    ackTimer.unref();
    stream.acked.then(
      () => clearTimeout(ackTimer),
      () => clearTimeout(ackTimer),
    );
    let refused: McpError | undefined;
    const onmessage = (msg: JsonRpcMessage): void => {
      if (isResponse(msg)) {
        if ('error' in msg && isObject(msg.error)) {
          refused = McpError.fromWire(msg.error, 'listen refused');
          refuse(refused);
        }
        return;
      }
      if (!isNotification(msg)) return; // 2026-07-28 servers send no requests
      const note = withoutSubscriptionId(msg);
      if (note.method === ACKNOWLEDGED) {
        // Consumed here: the honoured filter decides whether a subscribe succeeded.
        stream.honoured = isObject(note.params) && isObject(note.params.notifications) ? (note.params.notifications as ListenFilter) : {};
        this.retryMs = RETRY_FIRST_MS;
        ack(stream.honoured);
        return;
      }
      this.io.deliver(note);
    };
    this.io.open(id, filter, onmessage, stream.abort.signal).then(
      () => {
        refuse(new UpstreamError('closed', `upstream "${this.io.server}" ended the listen before acknowledging it`));
        this.ended(stream, refused ?? 'complete');
      },
      (err: unknown) => {
        refuse(err instanceof Error ? err : new Error(String(err)));
        this.ended(stream, err);
      },
    );
    return stream;
  }

  private ended(stream: Stream, why: unknown): void {
    if (stream !== this.active || this.closed) return; // replaced or closed on purpose
    this.active = undefined;
    if (why === 'complete' || why instanceof McpError) {
      this.io.warn(
        { server: this.io.server, reason: why instanceof McpError ? why.message : 'ended by the server' },
        'upstream listen ended; not reopened until subscriptions change',
      );
      return;
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.active) this.refresh().catch(() => {});
    }, delay);
    this.retryTimer.unref();
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The notification as clients see it: the subscription id is ours, not theirs. */
function withoutSubscriptionId(note: JsonRpcNotification): JsonRpcNotification {
  const params = note.params;
  if (!isObject(params) || !isObject(params._meta) || !(META.subscriptionId in params._meta)) return note;
  const { [META.subscriptionId]: _id, ...meta } = params._meta;
  const { _meta: _old, ...rest } = params;
  const out: Result = Object.keys(meta).length ? { ...rest, _meta: meta } : rest;
  return Object.keys(out).length ? { jsonrpc: '2.0', method: note.method, params: out } : { jsonrpc: '2.0', method: note.method };
}
