import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage, JsonRpcResponse } from '../mcp/jsonrpc.js';
import { responseJson } from '../mcp/frozen-json.js';
import type { InputLimits } from './input-limits.js';
import { limitedReply } from './error-catalogue.js';
import { SseStream } from './sse.js';

/** Where the answer to one client request goes, and whatever must reach the client before it. */
export interface ReplyChannel {
  /** Send a message tied to the request before its response. False when that is impossible. */
  related(msg: JsonRpcMessage): boolean;
  finish(response: JsonRpcResponse): void;
}

/**
 * Answers one POST that carried requests. It stays plain JSON (cheapest, and what most calls need)
 * until something must be sent before the final response — progress, or a server-to-client request —
 * and then switches to an SSE stream for the rest of the exchange.
 */
export class Responder implements ReplyChannel {
  private sse?: SseStream;
  private readonly responses: JsonRpcResponse[] = [];
  private finished = false;
  /** The client went away before we answered. */
  gone = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    private readonly acceptsSse: boolean,
    private readonly expected: number,
    private readonly batch: boolean,
    private readonly limits?: Pick<InputLimits, 'streamBufferBytes'>,
  ) {
    res.on('close', () => {
      if (!this.finished) this.gone = true;
    });
  }

  /** Send a message tied to this request before its response. False when that is impossible. */
  related(msg: JsonRpcMessage): boolean {
    if (this.finished || this.gone || !this.acceptsSse) return false;
    if (!this.sse) {
      this.sse = new SseStream(this.res, this.headers, { maxBufferBytes: this.limits?.streamBufferBytes });
      for (const r of this.responses) this.sse.send(r); // batch answers that came earlier
    }
    return this.sse.send(msg);
  }

  get streaming(): boolean {
    return this.sse !== undefined;
  }

  /** `status` applies only to a plain JSON answer (2026-07-28 errors carry 400/404). */
  finish(response: JsonRpcResponse, status = 200): void {
    if (this.finished) return;
    this.responses.push(response);
    if (this.sse) this.sse.send(response);
    if (this.responses.length < this.expected) return;
    this.finished = true;
    if (this.sse) {
      this.sse.end();
      return;
    }
    if (this.gone) return;
    const chunks = this.batch ? [JSON.stringify(this.responses)] : responseJson(this.responses[0]!);
    let length = 0;
    for (const c of chunks) length += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    // One limited call on a plain JSON answer: 429 and Retry-After (a batch keeps its 200: its other answers may be fine).
    const limited = this.batch ? undefined : limitedReply(this.responses[0]!);
    this.res.writeHead(limited?.status ?? status, {
      'content-type': 'application/json',
      'content-length': length,
      ...this.headers,
      ...limited?.headers,
    });
    if (chunks.length === 1) {
      this.res.end(chunks[0]);
      return;
    }
    // One writev for envelope and cached page bytes, without copying the page into a new buffer.
    this.res.cork();
    for (const c of chunks) this.res.write(c);
    this.res.end();
  }
}

/**
 * Answers for the legacy HTTP+SSE transport: the POST was already acknowledged with 202, so the
 * response and everything before it travel on the session's one SSE stream.
 */
export class StreamReplies implements ReplyChannel {
  constructor(
    private readonly stream: SseStream,
    /** Told when the answer went out (the legacy transport logs it then). */
    private readonly onFinish?: (response: JsonRpcResponse) => void,
  ) {}

  related(msg: JsonRpcMessage): boolean {
    return this.stream.send(msg);
  }

  finish(response: JsonRpcResponse): void {
    this.stream.send(response);
    this.onFinish?.(response);
  }
}
