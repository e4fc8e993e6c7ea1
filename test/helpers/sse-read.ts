import { createParser } from 'eventsource-parser';
import { within } from './within.js';

export interface Sse {
  contentType: string;
  events: Array<{ id?: string; data: string }>;
  retries: number[];
}

/** Reads a whole SSE response (until the server ends it); a guard, not a timing assertion, against one that never ends. */
export async function readSse(res: Response): Promise<Sse> {
  const out: Sse = { contentType: res.headers.get('content-type') ?? '', events: [], retries: [] };
  if (!out.contentType.includes('text/event-stream')) {
    await res.text();
    return out;
  }
  const parser = createParser({ onEvent: (e) => out.events.push({ id: e.id, data: e.data }), onRetry: (ms) => out.retries.push(ms) });
  const decoder = new TextDecoder();
  await within(
    (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    })(),
    'the event stream to end',
  );
  return out;
}

export const messages = (s: Sse) => s.events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as Record<string, any>);

/** A 2025-11-25 session opened by hand (initialize, initialized), for the wire-level stream cases. */
export interface RawSession {
  id: string;
  post(body: unknown, accept?: string): Promise<Response>;
  /** GET on the session; with `lastEventId`, a resumption (SEP-1699). */
  get(lastEventId?: string, signal?: AbortSignal): Promise<Response>;
}

export async function openRawSession(url: URL, key: string): Promise<RawSession> {
  const base = { authorization: `Bearer ${key}`, 'mcp-protocol-version': '2025-11-25' };
  const init = await fetch(url, {
    method: 'POST',
    headers: { ...base, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-session', version: '1' } },
    }),
  });
  await init.text();
  const id = init.headers.get('mcp-session-id');
  if (!id) throw new Error(`initialize gave no session id (HTTP ${init.status})`);
  const headers = { ...base, 'mcp-session-id': id };
  const session: RawSession = {
    id,
    post: (body, accept = 'application/json, text/event-stream') =>
      fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept }, body: JSON.stringify(body) }),
    get: (lastEventId, signal) =>
      fetch(url, {
        headers: { ...headers, accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) },
        signal,
      }),
  };
  await (await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  return session;
}
