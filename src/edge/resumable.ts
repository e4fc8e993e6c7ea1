import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { SseStream } from './sse.js';

/** How long the rest of a stream waits for its client to come back (GET + Last-Event-ID) before it is dropped. */
const UNCLAIMED_MS = 60_000;
/**
 * Streams of one session no client reads, kept for a resume: beyond this many, or this many bytes
 * (events and final answers), the oldest go, so a client that abandons stream after stream cannot
 * make the gateway hold them all.
 */
export const MAX_UNCLAIMED_STREAMS = 16;
export const MAX_UNCLAIMED_BYTES = 16 * 1024 * 1024;
const EVENT_ID = /^tg-(\d+)-(\d+)$/;

/**
 * The answers of one downstream session that its client may resume with `Last-Event-ID` (SEP-1699):
 * those the gateway relays from an upstream event stream. The event ids are the gateway's own
 * (`tg-<stream>-<event>`): the upstream's ids name its stream on a session that may be shared, and
 * the gateway resumes that one itself, upstream, whenever the server ends it early.
 */
export class ResumableStreams {
  private readonly streams = new Map<number, ResumableStream>();
  /** Streams without a reader, oldest first (a Set keeps insertion order). */
  private readonly unclaimed = new Set<ResumableStream>();
  private next = 1;

  open(maxBytes: number): ResumableStream {
    const n = this.next++;
    const s = new ResumableStream(n, maxBytes, {
      dropped: () => {
        this.unclaimed.delete(s);
        if (this.streams.get(n) === s) this.streams.delete(n);
      },
      unclaimed: () => this.park(s),
      claimed: () => this.unclaimed.delete(s),
    });
    this.streams.set(n, s);
    return s;
  }

  /** How many streams wait for their client to come back. */
  get unclaimedCount(): number {
    return this.unclaimed.size;
  }

  /** A stream lost its reader, or grew without one: the oldest unclaimed go beyond the caps. */
  private park(s: ResumableStream): void {
    this.unclaimed.add(s);
    let bytes = 0;
    for (const u of this.unclaimed) bytes += u.size;
    while (this.unclaimed.size > MAX_UNCLAIMED_STREAMS || (this.unclaimed.size > 1 && bytes > MAX_UNCLAIMED_BYTES)) {
      const oldest = this.unclaimed.values().next().value!;
      bytes -= oldest.size;
      this.unclaimed.delete(oldest);
      oldest.drop();
    }
  }

  /**
   * A GET naming one of our event ids continues that stream on a new response (`open` makes it):
   * what followed the id is replayed, the rest follows live. False when the id is not one we hold.
   */
  resume(lastEventId: string, open: () => SseStream): boolean {
    const m = EVENT_ID.exec(lastEventId);
    const s = m ? this.streams.get(Number(m[1])) : undefined;
    if (!s) return false;
    s.attach(open(), Number(m![2]));
    return true;
  }

  close(): void {
    for (const s of [...this.streams.values()]) s.drop();
    this.streams.clear();
  }
}

/** One relayed answer: its events kept until the client has read the last of them, or stopped coming back. */
export class ResumableStream {
  /**
   * The events a resume may still need, oldest first. Event 0 is the priming event (empty data, never
   * kept), so a resume from it replays everything kept.
   */
  private readonly kept: Array<{ i: number; data: string }> = [];
  private next = 1;
  private bytes = 0;
  private live?: SseStream;
  private retryMs?: number;
  private done = false;
  private dropped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly n: number,
    private readonly maxBytes: number,
    private readonly owner: { dropped(): void; unclaimed(): void; claimed(): void },
  ) {}

  /** Bytes of the events (and answer) kept. */
  get size(): number {
    return this.bytes;
  }

  /** On the POST's own response: the priming event first, so the client can resume from the very start. */
  start(stream: SseStream): void {
    stream.event(this.idOf(0), '');
    this.connect(stream);
  }

  /** Mirrors the server's reconnection delay to whoever reads the stream now, and later. */
  retry(ms: number): void {
    this.retryMs = ms;
    this.live?.retry(ms);
  }

  /** The upstream asked its client to poll: ours is told the same by the end of its response. */
  pause(): void {
    const live = this.live;
    this.live = undefined;
    live?.end();
    this.arm();
  }

  /** Kept for a resume, and written to the client if one reads. False once the stream is gone. */
  send(msg: JsonRpcMessage): boolean {
    if (this.done || this.dropped) return false;
    const data = JSON.stringify(msg);
    const i = this.keep(data);
    // Beyond stream_buffer_bytes the oldest go: a resume from before them misses them (progress, logs),
    // but a long call's stream must neither grow without bound nor lose its answer.
    while (this.bytes > this.maxBytes && this.kept.length > 1) this.bytes -= Buffer.byteLength(this.kept.shift()!.data);
    if (this.live) this.live.event(this.idOf(i), data);
    else this.owner.unclaimed();
    return !this.dropped;
  }

  /**
   * The final response: the stream ends with it, for a client reading now or one resuming later. It is
   * kept whatever its size (the bound is for what comes before it), as a JSON answer would be sent.
   */
  finish(response: JsonRpcMessage): void {
    if (this.done || this.dropped) return;
    this.done = true;
    const data = JSON.stringify(response);
    const i = this.keep(data);
    if (!this.live) return this.arm();
    this.live.event(this.idOf(i), data, true);
    this.live.end();
    this.drop();
  }

  attach(stream: SseStream, after: number): void {
    if (this.dropped) return stream.end();
    const previous = this.live;
    this.live = undefined;
    previous?.end();
    if (this.retryMs !== undefined) stream.retry(this.retryMs);
    const last = this.kept.at(-1);
    for (const e of this.kept) if (e.i > after) stream.event(this.idOf(e.i), e.data, this.done && e === last);
    if (this.done) {
      stream.end();
      return this.drop();
    }
    this.connect(stream);
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    if (this.timer) clearTimeout(this.timer);
    this.kept.length = 0;
    this.bytes = 0;
    const live = this.live;
    this.live = undefined;
    live?.end();
    this.owner.dropped();
  }

  private connect(stream: SseStream): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.live = stream;
    this.owner.claimed();
    stream.onClose = () => {
      if (this.live !== stream) return;
      this.live = undefined;
      this.arm();
    };
  }

  private arm(): void {
    if (this.dropped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.drop(), UNCLAIMED_MS);
    this.timer.unref();
    this.owner.unclaimed();
  }

  private keep(data: string): number {
    const i = this.next++;
    this.kept.push({ i, data });
    this.bytes += Buffer.byteLength(data);
    return i;
  }

  private idOf(i: number): string {
    return `tg-${this.n}-${i}`;
  }
}
