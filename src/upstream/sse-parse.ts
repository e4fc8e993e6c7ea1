import type { ResponseBody } from './dispatch.js';
import type { Redactor } from './redact.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One event stream can't hold more than this in a single unfinished event (same cap as the SDK's stdio buffer). */
const MAX_EVENT_BYTES = 10 * 1024 * 1024;

export interface SseSink {
  onEvent(event: EventSourceMessage): void;
  onRetry?(ms: number): void;
}

/**
 * Feeds an HTTP body carrying `text/event-stream` to `sink` as events arrive; resolves when the body ends.
 * An exception thrown by the sink stops reading (the body is destroyed) and rejects.
 */
export interface EventLimit {
  bytes: number;
  /** The error an oversized event fails the stream with (naming the server and the setting). */
  error(): Error;
}

export async function readEventStream(body: ResponseBody, sink: SseSink, limit?: EventLimit): Promise<void> {
  let overflow: Error | undefined;
  const parser = createParser({
    onEvent: (event) => sink.onEvent(event),
    onRetry: sink.onRetry ? (ms) => sink.onRetry!(ms) : undefined,
    maxBufferSize: limit?.bytes ?? MAX_EVENT_BYTES,
    onError: (err) => {
      // Unknown fields are legal SSE and ignored; only an oversized event ends the stream.
      if (err.type === 'max-buffer-size-exceeded') overflow = limit ? limit.error() : err;
    },
  });
  // A streaming decoder keeps multi-byte characters split across chunks whole. Each chunk is parsed as
  // it arrives, so progress and server requests reach the session while the answer is still to come.
  const decoder = new TextDecoder();
  await body.each((chunk) => {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (overflow) throw overflow;
  });
}

/**
 * Parses the data of one SSE `message` event (or a whole JSON body) and hands each JSON-RPC message to
 * `deliver`. Empty data is a priming event (an id for resumption, no message) and is skipped.
 * `redactor` masks the server's own secrets in the raw text first: an upstream may echo what we sent
 * it inside a result too, not only in errors, and a result goes to the client.
 */
export function deliverJson(text: string, deliver: (msg: unknown) => void, redactor?: Redactor): void {
  if (text.length === 0) return;
  const value: unknown = JSON.parse(redactor ? redactor.redactCredentials(text) : text);
  if (Array.isArray(value)) for (const item of value) deliver(item);
  else deliver(value);
}
