import { errors, type Dispatcher } from 'undici';
import { onCancel, type Cancel } from '../mcp/lazy-abort.js';

/**
 * One upstream HTTP exchange on undici's `dispatch` (the v7 controller-style handler), not
 * `dispatcher.request`: request() wraps every body in a Readable stream plus an abort listener,
 * which CPU profiles showed at several percent of a tools/call. Here the handler is the body: chunks
 * go straight to whoever reads them (a JSON collector, the SSE parser) and are queued only while
 * nobody reads yet, with the connection paused once that queue is as large as a Readable's would be.
 */

export type ResponseHeaders = Dispatcher.ResponseData['headers'];

export interface HttpResponse {
  statusCode: number;
  headers: ResponseHeaders;
  body: ResponseBody;
}

export interface ResponseBody {
  /** Fully read, failed or dropped: nothing more will come. */
  readonly destroyed: boolean;
  /**
   * Hands each chunk to `onChunk` as it arrives (queued ones first); resolves at the end of the body
   * or when `onChunk` returns false (the rest stays unread, for dump()). A throw from `onChunk` drops
   * the connection and rejects with what was thrown; a network error or an abort rejects too.
   */
  each(onChunk: (chunk: Buffer) => boolean | void): Promise<void>;
  /** Done with the body: up to `limit` bytes in all are drained (the connection stays warm), beyond it the connection is dropped. Never rejects. */
  dump(opts?: { limit?: number }): Promise<void>;
  /** Drops the rest of the body and, if it is still arriving, the connection. */
  destroy(reason?: unknown): void;
}

/** Unread bytes queued before the connection is paused: the high-water mark of undici's own body stream. */
const HIGH_WATER_BYTES = 64 * 1024;
/** dump()'s default drain budget, as undici's body.dump(). */
const DUMP_BYTES = 128 * 1024;

interface Reader {
  onChunk(chunk: Buffer): boolean | void;
  resolve(): void;
  reject(err: unknown): void;
}

/** Sends `options` through `dispatcher`; resolves at the response headers. `cancel` aborts it at any stage. */
export function dispatchRequest(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, cancel?: Cancel): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const exchange = new Exchange(resolve, reject, cancel);
    try {
      dispatcher.dispatch(options, exchange);
    } catch (err) {
      exchange.onResponseError(undefined, err as Error);
    }
  });
}

class Exchange implements Dispatcher.DispatchHandler, ResponseBody {
  private controller?: Dispatcher.DispatchController;
  /** An abort that came before undici handed us a controller; applied at onRequestStart, as request() does. */
  private early?: Error;
  private start?: { resolve(res: HttpResponse): void; reject(err: unknown): void };
  private unbind?: () => void;
  private queue: Buffer[] = [];
  private queued = 0;
  private received = 0;
  private contentLength = NaN;
  private reader?: Reader;
  private complete = false;
  private error?: { reason: unknown };

  constructor(resolve: (res: HttpResponse) => void, reject: (err: unknown) => void, cancel?: Cancel) {
    this.start = { resolve, reject };
    if (cancel?.aborted) this.early = abortReason(cancel.reason);
    else if (cancel) this.unbind = onCancel(cancel, (reason) => this.cancel(abortReason(reason)));
  }

  get destroyed(): boolean {
    return this.error !== undefined || (this.complete && this.queue.length === 0);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.early) controller.abort(this.early);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the answer is still to come
    const start = this.start;
    if (!start) return;
    this.start = undefined;
    this.contentLength = Number(headers['content-length'] ?? NaN);
    start.resolve({ statusCode, headers, body: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.error) return;
    this.received += chunk.length;
    if (this.reader) return this.deliver(this.reader, chunk);
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER_BYTES) controller.pause();
  }

  onResponseEnd(): void {
    this.complete = true;
    this.release();
    if (this.reader) this.finish(this.reader);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.release();
    const start = this.start;
    if (start) {
      this.start = undefined;
      this.error = { reason: err };
      return start.reject(err);
    }
    this.fail(err);
  }

  each(onChunk: (chunk: Buffer) => boolean | void): Promise<void> {
    if (this.error) return Promise.reject(this.error.reason);
    return new Promise<void>((resolve, reject) => {
      const reader: Reader = { onChunk, resolve, reject };
      this.reader = reader;
      while (this.queue.length > 0 && this.reader === reader) {
        const chunk = this.queue.shift()!;
        this.queued -= chunk.length;
        this.deliver(reader, chunk);
      }
      if (this.reader !== reader) return; // stopped, failed or dropped while the queue was read
      if (this.complete) this.finish(reader);
      else if (this.controller?.paused) this.controller.resume();
    });
  }

  async dump(opts?: { limit?: number }): Promise<void> {
    if (this.destroyed) return;
    const limit = opts?.limit ?? DUMP_BYTES;
    if (this.contentLength > limit || this.received > limit) return this.destroy();
    await this.each(() => {
      if (this.received > limit) throw DRAIN_LIMIT;
    }).catch(() => {});
  }

  destroy(reason?: unknown): void {
    if (this.error) return;
    this.fail(reason ?? new errors.RequestAbortedError());
  }

  /** An abort from the caller: before the headers it fails the request, after them the body. */
  private cancel(reason: Error): void {
    if (this.start && !this.controller) this.early = reason;
    else if (this.start) this.controller!.abort(reason);
    else this.destroy(reason);
  }

  private deliver(reader: Reader, chunk: Buffer): void {
    try {
      if (reader.onChunk(chunk) === false && this.reader === reader) this.finish(reader);
    } catch (err) {
      this.fail(err);
    }
  }

  private finish(reader: Reader): void {
    this.reader = undefined;
    reader.resolve();
  }

  /** Fails the body once: the queue goes, a connection still receiving it is dropped, a waiting reader rejects. */
  private fail(reason: unknown): void {
    if (this.error) return;
    this.error = { reason };
    this.queue = [];
    this.queued = 0;
    this.release();
    // Synchronously re-enters onResponseError, which finds the body already failed.
    if (!this.complete && this.controller && !this.controller.aborted) this.controller.abort(reason as Error);
    const reader = this.reader;
    this.reader = undefined;
    reader?.reject(reason);
  }

  private release(): void {
    const unbind = this.unbind;
    this.unbind = undefined;
    unbind?.();
  }
}

/** What a dump throws at its drain limit to drop the connection; never seen outside dump(). */
const DRAIN_LIMIT = new Error('drain limit');

/** undici's request() aborts with the signal's reason, or RequestAbortedError when it has none. */
function abortReason(reason: unknown): Error {
  return (reason ?? new errors.RequestAbortedError()) as Error;
}
