import { ErrorCode, McpError, isObject } from '../mcp/jsonrpc.js';
import type { Lease } from '../upstream/upstream.js';
import type { CallContext, RouteSession } from './route.js';

type Result = Record<string, unknown>;

/**
 * One server in scope: every message goes to it unchanged (names untouched), over this client's lease.
 * The gateway answers only `ping` itself; everything else, unknown methods included, is the server's.
 */
export class PassthroughSession implements RouteSession {
  constructor(
    private readonly server: string,
    private readonly lease: Lease,
  ) {}

  async initialize(ctx: CallContext): Promise<Result> {
    const upstream = await this.lease.initializeResult(ctx.headersFor(this.server));
    const { protocolVersion: _v, ...rest } = upstream;
    return rest;
  }

  request(method: string, params: Result | undefined, ctx: CallContext): Promise<Result> {
    if (method === 'ping') return Promise.resolve({});
    if (method === 'initialize') return Promise.reject(new McpError(ErrorCode.InvalidRequest, 'initialize may only be sent once per session'));
    return this.lease.request(method, params, {
      signal: ctx.signal,
      headers: ctx.headersFor(this.server),
      onProgress: ctx.onProgress && hasProgressToken(params) ? ctx.onProgress : undefined,
    });
  }

  notify(method: string, params: Result | undefined, ctx: CallContext): Promise<void> {
    if (method === 'notifications/initialized' || method === 'notifications/cancelled') return Promise.resolve();
    return this.lease.notify(method, params, ctx.headersFor(this.server));
  }

  close(): Promise<void> {
    return this.lease.release();
  }
}

export function hasProgressToken(params: Result | undefined): boolean {
  return isObject(params) && isObject(params._meta) && params._meta.progressToken !== undefined;
}
