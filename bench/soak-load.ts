/**
 * The soak's fixed load: MCP clients that each call a tool at a fixed pace (a slow call delays the next,
 * it never makes a burst), end their sessions now and then (DELETE or just walk away, so the session TTL
 * does the rest), and record every outcome with its time. Raw JSON-RPC over undici for the per-server
 * clients, the official SDK client for the aggregate.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Pool } from 'undici';

import { sleep } from './processes.js';
import { baseHeaders, parseReply, PROTOCOL_VERSION } from './wire.js';

const CALL_TIMEOUT_MS = 60_000;

export interface Outcomes {
  okAt: number[];
  /** How long each success took, in ms. */
  okMs: number[];
  /** When each failed call began, and when it failed. */
  errAt: number[];
  errEnd: number[];
  /** Error messages, numbers and ids masked, with their counts. */
  messages: Map<string, number>;
}

/** Every outcome, per target, in ms since the load began. */
export class Recorder {
  readonly t0 = performance.now();
  private readonly byTarget = new Map<string, Outcomes>();

  now(): number {
    return performance.now() - this.t0;
  }

  ok(target: string, startedAt: number): void {
    const r = this.of(target);
    r.okAt.push(this.now());
    r.okMs.push(this.now() - startedAt);
  }

  /** A failed call, from when it began: a call sent into a fault may fail long after (a timeout). */
  error(target: string, message: string, startedAt: number): void {
    const r = this.of(target);
    r.errAt.push(startedAt);
    r.errEnd.push(this.now());
    // Ids and numbers differ per call; without them the same failure counts as one message.
    const key = message
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<id>')
      .replace(/\d+/g, 'N')
      .slice(0, 160);
    r.messages.set(key, (r.messages.get(key) ?? 0) + 1);
  }

  of(target: string): Outcomes {
    let r = this.byTarget.get(target);
    if (!r) this.byTarget.set(target, (r = { okAt: [], okMs: [], errAt: [], errEnd: [], messages: new Map() }));
    return r;
  }
}

type Rpc = { status: number; reply?: { result?: any; error?: { code?: number; message?: string } }; sessionId?: string; text: string };

/** One JSON-RPC POST to the gateway. */
async function post(pool: Pool, path: string, headers: Record<string, string>, body: unknown): Promise<Rpc> {
  const res = await pool.request({
    path,
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    headersTimeout: CALL_TIMEOUT_MS,
    bodyTimeout: CALL_TIMEOUT_MS,
  });
  const text = await res.body.text();
  const sid = res.headers['mcp-session-id'];
  let reply: Rpc['reply'];
  try {
    reply = text ? parseReply(String(res.headers['content-type'] ?? ''), text) : undefined;
  } catch {
    reply = undefined;
  }
  return { status: res.statusCode, reply, sessionId: typeof sid === 'string' ? sid : undefined, text };
}

/** initialize + notifications/initialized, with the capabilities this client declares; returns the session id. */
export async function openRawSession(
  pool: Pool,
  path: string,
  auth: Record<string, string>,
  capabilities: Record<string, unknown>,
  name: string,
): Promise<string> {
  const init = await post(pool, path, baseHeaders(auth), {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities, clientInfo: { name, version: '1.0.0' } },
  });
  if (init.status !== 200 || !init.reply || init.reply.error || !init.sessionId) {
    throw new Error(`initialize: HTTP ${init.status} ${init.reply?.error?.message ?? init.text.slice(0, 160)}`);
  }
  const note = await post(pool, path, baseHeaders(auth, init.sessionId), { jsonrpc: '2.0', method: 'notifications/initialized' });
  if (note.status >= 300) throw new Error(`notifications/initialized: HTTP ${note.status}`);
  return init.sessionId;
}

export interface WorkerSpec {
  /** What the report calls it: a server name, or 'aggregate'. */
  target: string;
  path: string;
  capabilities: Record<string, unknown>;
  intervalMs: number;
  /** End the session after this many calls (alternately DELETE and walk away), then open a new one. */
  churnCalls: number;
}

export interface Load {
  stop(): Promise<void>;
}

/** A raw client calling `echo` at its pace; every answer must be the echo of its own message. */
async function rawWorker(
  pool: Pool,
  auth: Record<string, string>,
  spec: WorkerSpec,
  rec: Recorder,
  stopped: () => boolean,
  n: number,
): Promise<void> {
  let sessionId: string | undefined;
  let calls = 0;
  let churns = 0;
  let next = performance.now();
  while (!stopped()) {
    const started = rec.now();
    try {
      sessionId ??= await openRawSession(pool, spec.path, auth, spec.capabilities, `soak-${spec.target}-${n}`);
      const message = `${spec.target}-${n}-${calls}`;
      const r = await post(pool, spec.path, baseHeaders(auth, sessionId), {
        jsonrpc: '2.0',
        id: ++calls,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message } },
      });
      if (r.status === 404) sessionId = undefined; // the gateway forgot the session: open a new one next time
      const text = (r.reply?.result?.content ?? []).map((c: { text?: string }) => c.text ?? '').join('');
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.reply?.error?.message ?? r.text.slice(0, 160)}`);
      if (r.reply?.error) throw new Error(`${r.reply.error.code}: ${r.reply.error.message}`);
      if (r.reply?.result?.isError) throw new Error(`tool error: ${text.slice(0, 160)}`);
      if (text !== `Echo: ${message}`) throw new Error(`wrong answer: ${text.slice(0, 80) || r.text.slice(0, 80)}`);
      rec.ok(spec.target, started);
    } catch (err) {
      rec.error(spec.target, err instanceof Error ? err.message : String(err), started);
    }
    if (sessionId && calls > 0 && calls % spec.churnCalls === 0) {
      if (churns++ % 2 === 0) await deleteSession(pool, spec.path, auth, sessionId);
      sessionId = undefined;
    }
    next = Math.max(next + spec.intervalMs, performance.now());
    await sleep(next - performance.now());
  }
  if (sessionId) await deleteSession(pool, spec.path, auth, sessionId);
}

export async function deleteSession(pool: Pool, path: string, auth: Record<string, string>, sessionId: string): Promise<void> {
  try {
    const res = await pool.request({
      path,
      method: 'DELETE',
      headers: baseHeaders(auth, sessionId),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await res.body.dump();
  } catch {
    // The session is gone either way; the census will tell whether the gateway let go of it.
  }
}

/** The official SDK client on the aggregate /mcp: prefixed echo calls on each healthy server in turn, and a listing now and then. */
async function aggregateWorker(
  base: string,
  auth: Record<string, string>,
  spec: WorkerSpec,
  servers: readonly string[],
  rec: Recorder,
  stopped: () => boolean,
): Promise<void> {
  let client: Client | undefined;
  let transport: StreamableHTTPClientTransport | undefined;
  let calls = 0;
  let churns = 0;
  let failures = 0;
  let next = performance.now();
  // close() only drops the connection; terminateSession() is the DELETE that ends the session at once.
  const end = async (remove: boolean): Promise<void> => {
    if (remove) await transport?.terminateSession().catch(() => {});
    await client?.close().catch(() => {});
    client = undefined;
  };
  while (!stopped()) {
    const started = rec.now();
    try {
      if (!client) {
        const c = new Client({ name: 'soak-aggregate', version: '1.0.0' }, { capabilities: spec.capabilities });
        transport = new StreamableHTTPClientTransport(new URL(base + spec.path), { requestInit: { headers: auth } });
        await c.connect(transport);
        client = c;
      }
      const i = calls++;
      if (i % 20 === 19) {
        const { tools } = await client.listTools();
        const missing = servers.filter((s) => !tools.some((t) => t.name === `${s}-echo`));
        if (missing.length) throw new Error(`tools/list lacks the echo of ${missing.join(', ')}`);
      } else {
        const server = servers[i % servers.length]!;
        const message = `aggregate-${i}`;
        const r = await client.callTool({ name: `${server}-echo`, arguments: { message } });
        const text = ((r.content ?? []) as Array<{ text?: string }>).map((c) => c.text ?? '').join('');
        if (r.isError || text !== `Echo: ${message}`) throw new Error(`${server}-echo: ${text.slice(0, 120)}`);
      }
      rec.ok(spec.target, started);
      failures = 0;
    } catch (err) {
      rec.error(spec.target, err instanceof Error ? err.message : String(err), started);
      // A client whose session broke stays broken; a real user would reconnect, and so do we.
      if (++failures >= 3) {
        await end(false);
        failures = 0;
      }
    }
    if (client && calls % spec.churnCalls === 0) await end(churns++ % 2 === 0);
    next = Math.max(next + spec.intervalMs, performance.now());
    await sleep(next - performance.now());
  }
  await end(true);
}

/** Starts every worker; stop() lets each finish its call and end its session. */
export function startLoad(
  base: string,
  auth: Record<string, string>,
  specs: WorkerSpec[],
  aggregateServers: readonly string[],
  rec: Recorder,
): Load {
  const pool = new Pool(base, { connections: specs.length + 4, keepAliveTimeout: 30_000 });
  let stopping = false;
  const stopped = (): boolean => stopping;
  const running = specs.map((spec, n) =>
    spec.target === 'aggregate'
      ? aggregateWorker(base, auth, spec, aggregateServers, rec, stopped)
      : rawWorker(pool, auth, spec, rec, stopped, n),
  );
  return {
    async stop() {
      stopping = true;
      await Promise.all(running);
      await pool.close();
    },
  };
}
