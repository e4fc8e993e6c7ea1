import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {}

/** The client went away while sending its body: its doing, not a gateway failure (logged at info). */
export class ClientAborted extends Error {
  constructor() {
    super('the client aborted its request body');
    this.name = 'ClientAborted';
  }
}

/** Read the whole body, refusing more than `limit` bytes (and saying so before reading it all). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    // Node reports a body cut short as an 'error' ("aborted", ECONNRESET) or a close before 'end'.
    req.on('error', (err) => reject(req.destroyed || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? new ClientAborted() : err));
    req.on('close', () => {
      if (!req.complete) reject(new ClientAborted());
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
