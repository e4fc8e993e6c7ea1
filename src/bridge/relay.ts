import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, errorResponse, isNotification, isObject, isRequest, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { envelopeVersion, META, nameField } from '../mcp/modern.js';
import { isModernVersion } from '../mcp/versions.js';
import { exchange, headerSafe, type LegOutcome } from './http-leg.js';

export interface BridgeOptions {
  /** The gateway's MCP endpoint (…/mcp or …/mcp/{server}). */
  url: URL;
  key?: string;
  input: Readable;
  output: Writable;
  /** Diagnostics (stderr in the CLI): never the key. */
  log(line: string): void;
  /** Pause between attempts to reach a gateway that is down. */
  retryMs?: number;
}

type Id = string | number;
const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';
const LIST_CHANGES = [
  ['toolsListChanged', 'notifications/tools/list_changed'],
  ['promptsListChanged', 'notifications/prompts/list_changed'],
  ['resourcesListChanged', 'notifications/resources/list_changed'],
] as const;
const idKey = (id: Id) => (typeof id === 'number' ? `n${id}` : `s${id}`);

/**
 * A stdio MCP server that is a raw relay to Toolgate's Streamable HTTP endpoint. Messages pass
 * as they are in both directions (progress, cancellation, sampling, elicitation, roots and
 * list_changed need nothing of their own), so nothing a newer MCP adds is lost on the way.
 *
 * 2025-era clients: the bridge keeps the client's initialize, the session id and the GET stream;
 * when the gateway restarts and forgets the session (404), it initializes again with the same
 * params, unseen by the client, and resends what failed. 2026-07-28 clients are stateless: each
 * request becomes one POST with the headers that era requires, and a cancellation closes it.
 */
export class Bridge {
  private sessionId?: string;
  private protocolVersion?: string;
  private initParams?: Record<string, unknown>;
  private getGeneration = 0;
  private reconnecting?: Promise<boolean>;
  private readonly modernInflight = new Map<string, AbortController>();
  private readonly closers = new Set<AbortController>();
  private closed = false;
  private nextInternalId = 1;
  readonly done: Promise<void>;

  constructor(private readonly opts: BridgeOptions) {
    const lines = createInterface({ input: opts.input, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!line.trim()) return;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.emit(errorResponse(null, ErrorCode.ParseError, 'Parse error: a stdin line is not JSON'));
        return;
      }
      this.handle(msg as JsonRpcMessage).catch((err: unknown) => this.opts.log(`bridge: ${(err as Error).message}`));
    });
    this.done = new Promise((resolve) => lines.once('close', () => void this.close().then(resolve)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.getGeneration++;
    for (const c of [...this.closers, ...this.modernInflight.values()]) c.abort();
    if (this.sessionId) {
      // Tell the gateway the session is over, so its upstream sessions end now rather than at the TTL.
      await fetch(this.opts.url, { method: 'DELETE', headers: this.headers() }).catch(() => undefined);
    }
  }

  private emit(msg: JsonRpcMessage): void {
    if (!this.closed || 'id' in msg) this.opts.output.write(JSON.stringify(msg) + '\n');
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra };
    if (this.opts.key) h.authorization = `Bearer ${this.opts.key}`;
    if (this.sessionId) h['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion && !h['mcp-protocol-version']) h['mcp-protocol-version'] = this.protocolVersion;
    return h;
  }

  private async handle(msg: JsonRpcMessage): Promise<void> {
    // Before the era split: a 2026-07-28 client's cancellation carries its era too, and over HTTP that
    // era has no client notifications: closing the request's stream is how it cancels.
    if (isNotification(msg) && msg.method === 'notifications/cancelled' && isObject(msg.params)) {
      const id = msg.params.requestId;
      const inflight = typeof id === 'string' || typeof id === 'number' ? this.modernInflight.get(idKey(id)) : undefined;
      if (inflight) return void inflight.abort();
    }
    if (isModernVersion(envelopeVersion(msg))) return this.modern(msg as JsonRpcRequest);
    if (isRequest(msg) && msg.method === 'initialize') return this.initialize(msg);
    const outcome = await this.post(msg);
    if (outcome === 'session-lost' && (await this.reconnect())) await this.post(msg);
    if (isNotification(msg) && msg.method === 'notifications/initialized') this.openGetStream();
  }

  private post(msg: JsonRpcMessage, onMessage = (m: JsonRpcMessage) => this.emit(m)): Promise<LegOutcome> {
    const abort = new AbortController();
    this.closers.add(abort);
    return exchange({ url: this.opts.url, method: 'POST', headers: this.headers(), body: msg, signal: abort.signal, onMessage }).finally(
      () => this.closers.delete(abort),
    );
  }

  /** The client's initialize: remembered (a restart replays it) and answered with the gateway's result. */
  private async initialize(msg: JsonRpcRequest): Promise<void> {
    this.initParams = isObject(msg.params) ? msg.params : {};
    this.sessionId = undefined;
    this.protocolVersion = undefined;
    await this.openSession(msg, (m) => this.emit(m));
  }

  private async openSession(msg: JsonRpcRequest, onMessage: (m: JsonRpcMessage) => void): Promise<boolean> {
    let ok = false;
    await exchange({
      url: this.opts.url,
      method: 'POST',
      headers: this.headers(),
      body: msg,
      onHeaders: (h) => {
        this.sessionId = h.get('mcp-session-id') ?? undefined;
      },
      onMessage: (m) => {
        if ('result' in m && isObject(m.result) && typeof m.result.protocolVersion === 'string') {
          this.protocolVersion = m.result.protocolVersion;
          ok = true;
        }
        onMessage(m);
      },
    });
    return ok;
  }

  /** After a gateway restart: a new session with the client's own initialize, invisible to the client. */
  private reconnect(): Promise<boolean> {
    this.reconnecting ??= (async () => {
      if (!this.initParams) return false;
      this.sessionId = undefined;
      const id = `toolgate-bridge-${this.nextInternalId++}`;
      const ok = await this.openSession({ jsonrpc: '2.0', id, method: 'initialize', params: this.initParams }, () => {});
      if (!ok) return false;
      await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.opts.log('bridge: the gateway forgot the session (restarted?); a new one is open');
      this.openGetStream();
      return true;
    })().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  /**
   * The session's GET stream (list_changed, requests not tied to a call). Kept open: when it ends or
   * the gateway is down it is retried, and a 404 (the gateway restarted) reconnects the session,
   * so a restart is noticed even while the client is idle.
   */
  private openGetStream(): void {
    const generation = ++this.getGeneration;
    const retry = this.opts.retryMs ?? 1000;
    void (async () => {
      while (!this.closed && generation === this.getGeneration && this.sessionId) {
        const abort = new AbortController();
        this.closers.add(abort);
        const headers = this.headers({ accept: 'text/event-stream' });
        delete headers['content-type'];
        const outcome = await exchange({
          url: this.opts.url,
          method: 'GET',
          headers,
          signal: abort.signal,
          onMessage: (m) => this.emit(m),
        });
        this.closers.delete(abort);
        if (this.closed || generation !== this.getGeneration || outcome === 'refused') return;
        if (outcome === 'session-lost') {
          if (await this.reconnect()) return; // reconnect opened a new stream
        }
        await new Promise((r) => setTimeout(r, retry).unref());
      }
    })();
  }

  /** One 2026-07-28 request: its own POST with the era's headers; its stream closes when the client cancels. */
  private async modern(msg: JsonRpcRequest): Promise<void> {
    const headers = this.headers({ 'mcp-protocol-version': envelopeVersion(msg)! });
    delete headers['mcp-session-id'];
    if (typeof msg.method === 'string') headers['mcp-method'] = headerSafe(msg.method);
    const field = nameField(msg.method);
    const name = field && isObject(msg.params) ? msg.params[field] : undefined;
    if (typeof name === 'string') headers['mcp-name'] = headerSafe(name);
    const abort = new AbortController();
    const key = isRequest(msg) ? idKey(msg.id) : undefined;
    if (key) this.modernInflight.set(key, abort);
    try {
      if (msg.method === 'subscriptions/listen') await this.listen(msg, headers, abort.signal);
      else await exchange({ url: this.opts.url, method: 'POST', headers, body: msg, signal: abort.signal, onMessage: (m) => this.emit(m) });
    } finally {
      if (key) this.modernInflight.delete(key);
    }
  }

  /**
   * A 2026-07-28 listen lives until the client cancels it; a gateway restart must not end it. Once
   * acknowledged, a stream that ends or breaks is reopened (after `retryMs`), the repeated
   * acknowledgement is not shown to the client, and it is told that every list it listens to may have
   * changed meanwhile (a change during the gap would otherwise be lost). An answer the gateway gives
   * on purpose (a refusal, a final result) ends the listen as it would without the bridge.
   */
  private async listen(msg: JsonRpcRequest, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
    const retry = this.opts.retryMs ?? 1000;
    let honoured: Record<string, unknown> | undefined;
    while (!this.closed && !signal.aborted) {
      let answer: JsonRpcMessage | undefined;
      const outcome = await exchange({
        url: this.opts.url,
        method: 'POST',
        headers,
        body: msg,
        signal,
        onMessage: (m) => {
          if (isNotification(m) && m.method === ACKNOWLEDGED) {
            const params = isObject(m.params) ? m.params : {};
            if (honoured) return this.listsMayHaveChanged(msg.id, honoured);
            honoured = isObject(params.notifications) ? params.notifications : {};
          } else if (!isNotification(m) && !isRequest(m)) {
            answer = m; // held back: a broken connection's error is not the end of the listen
            return;
          }
          this.emit(m);
        },
      });
      if (signal.aborted || this.closed) return;
      if (!honoured || outcome === 'refused' || (outcome === 'ok' && answer)) {
        if (answer) this.emit(answer);
        return;
      }
      this.opts.log('bridge: a listen stream ended (gateway restarted?); reopening it');
      await new Promise((r) => setTimeout(r, retry).unref());
    }
  }

  /** After a listen was reopened: one list_changed per list the client listens to, stamped with its subscription. */
  private listsMayHaveChanged(subscriptionId: Id, honoured: Record<string, unknown>): void {
    for (const [flag, method] of LIST_CHANGES) {
      if (honoured[flag] === true) {
        this.emit({ jsonrpc: '2.0', method, params: { _meta: { [META.subscriptionId]: subscriptionId } } });
      }
    }
  }
}
