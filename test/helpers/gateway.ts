import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observe/log.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import type { Resolver } from '../../src/upstream/egress.js';

export const TEST_KEY = 'sk-test-toolgate-key-0123456789';

export interface TestGateway extends Gateway {
  /** Every log line the gateway wrote, for canary checks. */
  logs: string[];
  mcpUrl(path?: string): URL;
}

let shared: Promise<Store> | undefined;
let sharedDir: string | undefined;

/** The shared store's data directory (for tests that inspect what it wrote). */
export function processStoreDir(): string | undefined {
  return sharedDir;
}

/**
 * One embedded store per test process, in a temp directory removed at exit, shared by the gateways this
 * process starts without a store of their own: creating a PGlite cluster costs seconds, reopening one
 * still costs a second or more, and gateways that do not look at identities need no store of their own.
 */
export function processStore(): Promise<Store> {
  shared ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-gw-'));
    sharedDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return openStore({ dataDir: dir });
  })();
  return shared;
}

/** Starts a gateway in this process on a free 127.0.0.1 port from YAML text. */
export async function startTestGateway(
  yaml: string,
  env: Record<string, string | undefined> = {},
  port = 0,
  opts: { store?: Store; resolve?: Resolver } = {},
): Promise<TestGateway> {
  const config = parseConfig(yaml, 'test-config.yaml', { ...process.env, ...env });
  if (!config.masterKey) config.masterKey = TEST_KEY;
  const settings = config.settings;
  const store = opts.store ?? (settings.dataDir || settings.databaseUrl ? undefined : await processStore());
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const gw = await startGateway(config, {
    host: '127.0.0.1',
    port,
    log: createLogger({ level: 'debug', destination }),
    store,
    resolve: opts.resolve,
  });
  return Object.assign(gw, { logs, mcpUrl: (path = '/mcp') => new URL(gw.url + path) });
}

export interface ConnectOptions {
  key?: string;
  capabilities?: Record<string, unknown>;
  headers?: Record<string, string>;
  name?: string;
}

/** The official SDK client, connected through Streamable HTTP with the gateway key. */
export async function connectClient(url: URL, opts: ConnectOptions = {}): Promise<Client> {
  const client = new Client({ name: opts.name ?? 'toolgate-test', version: '1.0.0' }, { capabilities: opts.capabilities ?? {} });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${opts.key ?? TEST_KEY}`, ...opts.headers } },
  });
  await client.connect(transport);
  return client;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** A raw JSON-RPC POST, for the wire-level cases the SDK client would never send. */
export async function rawPost(
  url: URL | string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TEST_KEY}`,
      ...headers,
    },
    body,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const EVERYTHING_STDIO = `
    transport: stdio
    command: node
    args: ["node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"]`;
