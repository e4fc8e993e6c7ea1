import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import { headerValue, isOk, NOOP_HANDLERS, UpstreamHttp, type HttpUpstreamOptions } from './http-client.js';
import { deliverJson, readEventStream } from './sse-parse.js';
import { UpstreamError, type SendOptions, type TransportHandlers, type UpstreamTransport } from './transport.js';

/**
 * The 2024-11-05 HTTP+SSE transport: one long GET stream that first names the POST endpoint
 * (`event: endpoint`) and then carries every server message, responses included, as `event: message`.
 */
export class SseTransport implements UpstreamTransport {
  readonly kind = 'sse' as const;
  private readonly http: UpstreamHttp;
  private handlers = NOOP_HANDLERS;
  private endpoint?: URL;
  private protocolVersion?: string;
  private stream?: AbortController;
  private closed = false;

  constructor(private readonly opts: HttpUpstreamOptions) {
    this.http = new UpstreamHttp(opts);
  }

  /** Opens the stream and resolves once the upstream has named its POST endpoint. */
  async start(handlers: TransportHandlers): Promise<void> {
    if (this.stream) throw new UpstreamError('protocol', `upstream "${this.http.server}": SSE transport already started`);
    this.handlers = handlers;
    const ac = new AbortController();
    this.stream = ac;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new UpstreamError('timeout', `upstream "${this.http.server}" sent no SSE endpoint within ${this.opts.timeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, this.opts.timeoutMs);
    });
    try {
      await Promise.race([this.connect(ac.signal), timedOut]);
    } catch (err) {
      ac.abort();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(signal: AbortSignal): Promise<void> {
    const server = this.http.server;
    const res = await this.http.request({
      method: 'GET',
      url: this.http.url,
      headers: { accept: 'text/event-stream' },
      signal,
      bodyTimeout: 0,
    });
    if (!isOk(res.statusCode)) throw await this.http.statusError(res, false);
    const type = headerValue(res.headers, 'content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      await res.body.dump();
      throw new UpstreamError('protocol', `upstream "${server}" answered the SSE GET with content-type "${type || 'none'}"`);
    }
    await new Promise<void>((resolve, reject) => {
      let started = false;
      const ended = (err?: unknown): void => {
        this.endpoint = undefined;
        if (!started) {
          reject(
            err
              ? this.http.failure(err, signal)
              : new UpstreamError('protocol', `upstream "${server}" closed its SSE stream before naming an endpoint`),
          );
        } else if (!this.closed) {
          this.handlers.onclose(
            new UpstreamError('closed', `upstream "${server}" closed its SSE stream${err ? `: ${this.http.cause(err)}` : ''}`),
          );
        }
      };
      readEventStream(
        res.body,
        {
          onEvent: (ev) => {
            if (ev.event === 'endpoint') {
              if (started) return;
              this.endpoint = this.endpointUrl(ev.data);
              started = true;
              resolve();
            } else if (ev.event === undefined || ev.event === 'message') {
              this.deliver(ev.data);
            }
          },
        },
        this.http.eventLimit,
      ).then(() => ended(), ended);
    });
  }

  /** The POST endpoint, resolved against the stream's URL; another origin would receive our credentials, so it is refused. */
  private endpointUrl(data: string): URL {
    let url: URL;
    try {
      url = new URL(data.trim(), this.http.url);
    } catch {
      throw new UpstreamError('protocol', `upstream "${this.http.server}" named an invalid SSE endpoint`);
    }
    if (url.origin !== this.http.url.origin) {
      throw new UpstreamError(
        'protocol',
        `upstream "${this.http.server}" named an SSE endpoint on another origin (${url.origin}); refused`,
      );
    }
    return url;
  }

  private deliver(data: string): void {
    try {
      deliverJson(data, (msg) => this.handlers.onmessage(msg as JsonRpcMessage), this.http.redactor);
    } catch (err) {
      this.http.log?.warn({ server: this.http.server, err: this.http.cause(err) }, 'skipped an invalid message on the SSE stream');
    }
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(msg: JsonRpcMessage, opts?: SendOptions): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint || this.closed) {
      throw new UpstreamError('closed', `upstream "${this.http.server}": the SSE stream is not open`);
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    const res = await this.http.request({
      method: 'POST',
      url: endpoint,
      headers,
      body: JSON.stringify(msg),
      extraHeaders: opts?.headers,
      signal: opts?.signal,
    });
    if (!isOk(res.statusCode)) throw await this.http.statusError(res, true);
    try {
      await res.body.dump();
    } catch (err) {
      throw this.http.failure(err, opts?.signal);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endpoint = undefined;
    this.stream?.abort();
    await this.http.close();
  }
}
