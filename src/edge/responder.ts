import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage, JsonRpcResponse } from '../mcp/jsonrpc.js';
import { responseJson } from '../mcp/frozen-json.js';
import type { StreamRelay } from '../upstream/transport.js';
import type { InputLimits } from './input-limits.js';
import type { ResumableStream, ResumableStreams } from './resumable.js';
import { limitedReply } from './error-catalogue.js';
import { SseStream } from './sse.js';

/** Where the answer to one client request goes, and whatever must reach the client before it. */
export interface ReplyChannel {
  /** Send a message tied to the request before its response. False when that is impossible. */
  related(msg: JsonRpcMessage): boolean;
  finish(response: JsonRpcResponse): void;
  /** Present when the reply can mirror an upstream event stream (its client accepts SSE). */
  readonly relay?: StreamRelay;
}

/**
 * Answers one POST that carried requests. It stays plain JSON (cheapest, and what most calls need)
 * until something must be sent before the final response — progress, or a server-to-client request —
 * and then switches to an SSE stream for the rest of the exchange. When the upstream answers on an
 * event stream, so does the reply, from the start; on a session it is resumable (see resumable.ts).
 */
export class Responder implements ReplyChannel, StreamRelay {
  private sse?: SseStream;
  private resumed?: ResumableStream;
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
    /** The session's resumable streams (2025 sessions: a client may come back with Last-Event-ID). */
    private readonly resumable?: ResumableStreams,
  ) {
    res.on('close', () => {
      if (!this.finished) this.gone = true;
    });
  }

  /**
   * Session answers only, one per response: a stream without a session could not be resumed (and a
   * curl user of the sessionless path wants JSON), and a batch's answers are not one upstream's stream.
   */
  get relay(): StreamRelay | undefined {
    return this.resumable && this.acceptsSse && this.expected === 1 ? this : undefined;
  }

  /** The upstream answers on an event stream: so does this reply, resumable, from its priming event on. */
  opened(): void {
    if (this.finished || this.gone || this.sse || !this.resumable) return;
    this.sse = new SseStream(this.res, this.headers, { maxBufferBytes: this.limits?.streamBufferBytes });
    this.resumed = this.resumable.open(this.limits?.streamBufferBytes ?? Infinity);
    this.resumed.start(this.sse);
  }

  retry(ms: number): void {
    this.resumed?.retry(ms);
  }

  /** The upstream ended its stream early for its client to poll: ours polls us. */
  paused(): void {
    this.resumed?.pause();
  }

  /** Send a message tied to this request before its response. False when that is impossible. */
  related(msg: JsonRpcMessage): boolean {
    // Kept for the client's resume even while it is away: the answer stays on its stream.
    if (this.resumed) return !this.finished && this.resumed.send(msg);
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
    if (this.resumed) {
      this.finished = true;
      return this.resumed.finish(response);
    }
    this.responses.push(response);
    if (this.sse) this.sse.send(response, 'message', true);
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
