import type { ServerResponse } from 'node:http';

const KEEPALIVE_MS = 15_000;

export interface SseOptions {
  keepalive?: boolean;
  eventIdPrefix?: string;
  /**
   * Bytes this stream may hold that its client has not read (stream_buffer_bytes). Beyond it the
   * stream is closed: a client that never reads must not make the gateway buffer without bound. It
   * may open a new stream (and resume) when it is ready.
   */
  maxBufferBytes?: number;
  /** Told once when the stream is closed for going over maxBufferBytes. */
  onOverflow?: (bufferedBytes: number) => void;
}

/** A Server-Sent Events response carrying JSON-RPC messages as `event: message`. */
export class SseStream {
  closed = false;
  private keepalive?: NodeJS.Timeout;
  private nextEventId = 1;
  private readonly prefix?: string;
  private readonly maxBuffer: number;
  /** When the socket last stopped taking writes without draining since (0 = flowing). */
  private stalledSince = 0;
  onClose?: () => void;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string> = {},
    private readonly opts: SseOptions = {},
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    this.prefix = opts.eventIdPrefix;
    this.maxBuffer = opts.maxBufferBytes ?? Infinity;
    res.on('close', () => this.markClosed());
    res.on('drain', () => (this.stalledSince = 0));
    if (opts.keepalive) {
      this.keepalive = setInterval(() => this.write(': keepalive\n\n'), KEEPALIVE_MS);
      this.keepalive.unref();
    }
  }

  /**
   * `answer`: the final response of a request's stream, sent whatever its size (a plain JSON body has
   * no bound either); the bound is for what keeps coming, not for the one answer the client waits for.
   */
  send(msg: unknown, event = 'message', answer = false): boolean {
    if (this.closed) return false;
    const id = this.prefix ? `id: ${this.prefix}-${this.nextEventId++}\n` : '';
    return this.write(`${id}event: ${event}\ndata: ${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n\n`, answer);
  }

  /** One `message` event with an id of the caller's (resumable streams); empty data is a priming event. */
  event(id: string, data: string, answer = false): boolean {
    return this.write(data === '' ? `id: ${id}\ndata: \n\n` : `id: ${id}\nevent: message\ndata: ${data}\n\n`, answer);
  }

  /** The reconnection delay a client should wait before resuming (SSE `retry`). */
  retry(ms: number): boolean {
    return this.write(`retry: ${Math.max(0, Math.floor(ms))}\n\n`);
  }

  /** How long the client has left written data unread (0 while it keeps up). */
  stalledFor(now = Date.now()): number {
    return this.stalledSince === 0 ? 0 : now - this.stalledSince;
  }

  end(): void {
    if (this.closed) return;
    this.markClosed();
    this.res.end();
  }

  private write(chunk: string, unbounded = false): boolean {
    if (this.closed) return false;
    if (!this.res.write(chunk) && this.stalledSince === 0) this.stalledSince = Date.now();
    const buffered = this.res.writableLength;
    if (buffered > this.maxBuffer && !unbounded) {
      this.markClosed();
      // destroy, not end: end would keep every buffered byte until the client reads them.
      this.res.destroy();
      this.opts.onOverflow?.(buffered);
      return false;
    }
    return true;
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.onClose?.();
  }
}
