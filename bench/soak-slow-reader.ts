/**
 * A client that opens its session's GET stream and never reads it: a raw socket, paused right after the
 * request is written, so the gateway's writes pile up once the kernel's buffers are full. It never closes
 * on its own; whether the gateway lets go of it is what probe() finds out.
 */
import net from 'node:net';
import type { Pool } from 'undici';

import { baseHeaders } from './wire.js';
import { openRawSession } from './soak-load.js';

export type ProbeOutcome = 'still attached' | 'stream closed by the gateway' | 'session ended by the gateway' | 'probe failed';

export class SlowReader {
  /** When (ms since the load began) the gateway's side of the stalled connection was seen to close. */
  closedAt?: number;
  private socket?: net.Socket;

  private constructor(
    private readonly pool: Pool,
    private readonly path: string,
    private readonly auth: Record<string, string>,
    readonly sessionId: string,
  ) {}

  static async open(pool: Pool, base: string, path: string, auth: Record<string, string>, now: () => number): Promise<SlowReader> {
    const sessionId = await openRawSession(pool, path, auth, {}, 'soak-slow-reader');
    const r = new SlowReader(pool, path, auth, sessionId);
    const { hostname, port } = new URL(base);
    const socket = net.connect(Number(port), hostname);
    r.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {}); // a reset from the gateway is an outcome, not a harness failure
    socket.once('close', () => (r.closedAt ??= now()));
    const headers = { ...baseHeaders(auth, sessionId), accept: 'text/event-stream', host: `${hostname}:${port}` };
    delete (headers as Record<string, string | undefined>)['content-type'];
    socket.write(
      `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
    // Never read: not even the response headers.
    socket.pause();
    return r;
  }

  /**
   * Asks the gateway, with a second GET on the same session, whether the stalled stream is still attached
   * (409: a session has one GET stream), gone (200: this probe got a new one, closed at once), or whether
   * the whole session is gone (404).
   */
  async probe(): Promise<ProbeOutcome> {
    try {
      const headers = { ...baseHeaders(this.auth, this.sessionId), accept: 'text/event-stream' };
      const res = await this.pool.request({ path: this.path, method: 'GET', headers, headersTimeout: 10_000 });
      // An SSE body never ends by itself; dropping it makes undici report an abort, which is expected here.
      res.body.on('error', () => {});
      res.body.destroy();
      if (res.statusCode === 409) return 'still attached';
      if (res.statusCode === 200) return 'stream closed by the gateway';
      if (res.statusCode === 404) return 'session ended by the gateway';
      return 'probe failed';
    } catch {
      return 'probe failed';
    }
  }

  /** True once the soak has ended the reader itself (after the final census). */
  destroyed = false;

  destroy(): void {
    this.destroyed = true;
    this.socket?.destroy();
  }
}
