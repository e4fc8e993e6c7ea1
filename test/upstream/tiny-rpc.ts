import assert from 'node:assert/strict';
import type { JsonRpcFailure, JsonRpcMessage, JsonRpcResponse } from '../../src/mcp/jsonrpc.js';
import type { SendOptions, TransportHandlers, UpstreamTransport } from '../../src/upstream/transport.js';

type Result = Record<string, unknown>;

/** The smallest request/response correlation over a transport: an id map, as the session layer will have. */
export class TinyRpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: JsonRpcResponse): void }>();
  readonly others: JsonRpcMessage[] = [];
  readonly closed: Promise<Error | undefined>;
  private markClosed!: (e: Error | undefined) => void;

  constructor(readonly transport: UpstreamTransport) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  readonly handlers: TransportHandlers = {
    onmessage: (msg) => {
      const waiter = typeof msg.id === 'number' && !('method' in msg) ? this.pending.get(msg.id) : undefined;
      if (waiter) {
        this.pending.delete(msg.id as number);
        waiter.resolve(msg as JsonRpcResponse);
      } else {
        this.others.push(msg);
      }
    },
    onclose: (err) => this.markClosed(err),
  };

  async start(): Promise<void> {
    await this.transport.start(this.handlers);
  }

  /** Sends a request and waits for its response; a JSON-RPC error rejects with its message. */
  async request(method: string, params: Result = {}, opts?: SendOptions): Promise<Result> {
    const id = this.nextId++;
    const response = new Promise<JsonRpcResponse>((resolve) => this.pending.set(id, { resolve }));
    try {
      await this.transport.send({ jsonrpc: '2.0', id, method, params }, opts);
    } catch (err) {
      this.pending.delete(id);
      throw err;
    }
    const res = await response;
    if ('error' in res) throw new Error(`${method} failed: ${(res as JsonRpcFailure).error.message}`);
    return res.result as Result;
  }

  notify(method: string, params?: Result, opts?: SendOptions): Promise<void> {
    return this.transport.send(params ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method }, opts);
  }

  /** initialize + notifications/initialized, adopting the negotiated version. */
  async handshake(): Promise<Result> {
    const result = await this.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'toolgate-test', version: '0.0.0' },
    });
    this.transport.setProtocolVersion(String(result.protocolVersion));
    await this.notify('notifications/initialized');
    return result;
  }
}

/** The text of the first content item of a tools/call result. */
export function firstText(result: Result): string {
  const content = result.content as Array<{ type: string; text?: string }>;
  return content[0]?.text ?? '';
}

export function toolNames(result: Result): string[] {
  return (result.tools as Array<{ name: string }>).map((t) => t.name);
}

/** The exchange every transport must carry against server-everything; returns the initialize result. */
export async function exerciseEverything(transport: UpstreamTransport): Promise<Result> {
  const rpc = new TinyRpc(transport);
  await rpc.start();
  const init = await rpc.handshake();
  assert.equal(init.protocolVersion, '2025-11-25');
  assert.ok(toolNames(await rpc.request('tools/list')).includes('echo'));
  assert.equal(firstText(await rpc.request('tools/call', { name: 'echo', arguments: { message: 'hi' } })), 'Echo: hi');
  return init;
}
