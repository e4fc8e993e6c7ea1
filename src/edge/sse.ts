import type { ServerResponse } from 'node:http';

const KEEPALIVE_MS = 15_000;

/** A Server-Sent Events response carrying JSON-RPC messages as `event: message`. */
export class SseStream {
  closed = false;
  private keepalive?: NodeJS.Timeout;
  private nextEventId = 1;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string> = {},
    opts: { keepalive?: boolean; eventIdPrefix?: string } = {},
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
    res.on('close', () => this.markClosed());
    if (opts.keepalive) {
      this.keepalive = setInterval(() => this.res.write(': keepalive\n\n'), KEEPALIVE_MS);
      this.keepalive.unref();
    }
  }

  private readonly prefix?: string;
  onClose?: () => void;

  send(msg: unknown, event = 'message'): boolean {
    if (this.closed) return false;
    const id = this.prefix ? `id: ${this.prefix}-${this.nextEventId++}\n` : '';
    this.res.write(`${id}event: ${event}\ndata: ${typeof msg === 'string' ? msg : JSON.stringify(msg)}\n\n`);
    return true;
  }

  end(): void {
    if (this.closed) return;
    this.markClosed();
    this.res.end();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.onClose?.();
  }
}
