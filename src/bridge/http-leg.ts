import { createParser } from 'eventsource-parser';
import { ErrorCode, errorResponse, isObject, isRequest, type JsonRpcMessage } from '../mcp/jsonrpc.js';

/** What one POST (or GET) to the gateway came to. */
export type LegOutcome = 'ok' | 'session-lost' | 'unreachable' | 'refused';

export interface LegRequest {
  url: URL;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: JsonRpcMessage;
  signal?: AbortSignal;
  /** Each message the gateway sends back, as it arrives (JSON body or SSE events). */
  onMessage(msg: JsonRpcMessage): void;
  /** Response headers, before any message. */
  onHeaders?(headers: Headers): void;
}

/** Header values that are not plain visible ASCII travel base64-wrapped (2026-07-28 header rules). */
export function headerSafe(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : `=?base64?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

/**
 * One HTTP exchange with the gateway: sends, then relays every JSON-RPC message of the answer
 * (plain JSON or an SSE stream) until it ends. A refusal that is not JSON-RPC (a proxy's HTML page,
 * a 401 from something in between) becomes a JSON-RPC error naming the status, so the stdio client
 * always hears back about its request.
 */
export async function exchange(leg: LegRequest): Promise<LegOutcome> {
  let res: Response;
  try {
    res = await fetch(leg.url, {
      method: leg.method,
      headers: leg.headers,
      body: leg.body === undefined ? undefined : JSON.stringify(leg.body),
      signal: leg.signal,
    });
  } catch (err) {
    if (leg.signal?.aborted) return 'ok';
    if (isRequest(leg.body)) {
      const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      leg.onMessage(
        errorResponse(
          leg.body.id,
          ErrorCode.ConnectionClosed,
          `Toolgate at ${leg.url.origin} is not reachable (${why}); the bridge reconnects when it is back`,
        ),
      );
    }
    return 'unreachable';
  }
  leg.onHeaders?.(res.headers);
  if (res.status === 404 && leg.headers['mcp-session-id'] !== undefined) {
    await res.body?.cancel();
    return 'session-lost';
  }
  if (res.status === 202 || (res.status === 405 && leg.method === 'GET')) {
    await res.body?.cancel();
    return res.status === 202 ? 'ok' : 'refused';
  }
  const type = res.headers.get('content-type') ?? '';
  try {
    if (type.includes('text/event-stream') && res.body) {
      const parser = createParser({
        onEvent(ev) {
          if (!ev.data) return;
          try {
            leg.onMessage(JSON.parse(ev.data) as JsonRpcMessage);
          } catch {
            // A malformed event is dropped; the stream goes on.
          }
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      return 'ok';
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isObject(parsed) && parsed.jsonrpc === '2.0') {
      // Refusals before the body was read carry id null: give the client back its own id.
      if (parsed.id === null && isRequest(leg.body)) parsed.id = leg.body.id;
      leg.onMessage(parsed as JsonRpcMessage);
    } else if (isRequest(leg.body)) {
      leg.onMessage(errorResponse(leg.body.id, ErrorCode.InternalError, `Toolgate answered HTTP ${res.status}: ${text.slice(0, 200)}`));
    }
    return res.ok ? 'ok' : 'refused';
  } catch (err) {
    if (leg.signal?.aborted) return 'ok';
    if (isRequest(leg.body)) {
      leg.onMessage(errorResponse(leg.body.id, ErrorCode.ConnectionClosed, `the connection to Toolgate broke: ${(err as Error).message}`));
    }
    return 'unreachable';
  }
}
