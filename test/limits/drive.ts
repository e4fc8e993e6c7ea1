import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { api, uid } from '../admin/api.js';
import { connectClient, rawPost, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/** One identity level a limit can sit on. */
export type Level = 'key' | 'team' | 'user' | 'organization';
export const LEVELS: readonly Level[] = ['key', 'team', 'user', 'organization'];

/** A fresh key whose `level` (itself, or a new team, user or organization) carries `limits`; owner is what the message names. */
export async function keyWithLimits(
  gw: TestGateway,
  level: Level,
  limits: Record<string, unknown>,
): Promise<{ key: string; owner: string; ownerId: string }> {
  const create = async (path: string, body: Record<string, unknown>) => {
    const r = await api(gw, 'POST', path, body);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  if (level === 'key') {
    const k = await create('/key/generate', limits);
    return { key: k.key, owner: `key sk-...${k.key.slice(-4)}`, ownerId: k.token };
  }
  const id = `${level}-${uid()}`;
  const field = level === 'organization' ? 'organization_id' : `${level}_id`;
  const path = level === 'organization' ? '/organization/new' : `/${level}/new`;
  await create(path, { [field]: id, ...limits, ...(level === 'user' && { auto_create_key: false }) });
  const k = await create('/key/generate', { [field]: id });
  return { key: k.key, owner: `${level} ${id}`, ownerId: id };
}

/** Another key in the same team, user or organization. */
export async function anotherKey(gw: TestGateway, level: Exclude<Level, 'key'>, ownerId: string): Promise<string> {
  const field = level === 'organization' ? 'organization_id' : `${level}_id`;
  return (await api(gw, 'POST', '/key/generate', { [field]: ownerId })).json.key;
}

/** What a client saw of one tools/call: its result text, or the error it got. */
export type Outcome = { ok: true; text: string } | { ok: false; message: string };

export interface Driver {
  call(tool: string, args?: Record<string, unknown>, signal?: AbortSignal): Promise<Outcome>;
  close(): Promise<void>;
}

/** The paths of the matrix: a 2025-11-25 session, a 2026-07-28 stateless client, the aggregate `/mcp` (namespaced names). */
export const ERAS = ['2025 session', '2026 stateless', 'aggregate /mcp'] as const;
export type Era = (typeof ERAS)[number];

async function sdk(url: URL, key: string, modern: boolean): Promise<Client> {
  if (!modern) return connectClient(url, { key });
  const client = new Client(
    { name: 'limits-test', version: '1.0.0' },
    { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

/** An HTTP 429 reaches the SDK as "Error POSTing to endpoint: <body>": the JSON-RPC error's own message, when the body is one. */
function rpcMessage(text: string): string {
  const body = text.indexOf('{');
  try {
    const parsed = JSON.parse(text.slice(body)) as { error?: { message?: string } };
    return parsed.error?.message ?? text;
  } catch {
    return text;
  }
}

/** The real SDK client over one era; on the aggregate, `alpha`'s tools are called `alpha-<tool>`. */
export async function driver(gw: TestGateway, era: Era, key: string, server = 'alpha'): Promise<Driver> {
  const aggregate = era === 'aggregate /mcp';
  const client = await sdk(gw.mcpUrl(aggregate ? '/mcp' : `/mcp/${server}`), key, era === '2026 stateless');
  return {
    async call(tool, args = {}, signal) {
      try {
        const r = await client.callTool({ name: aggregate ? `${server}-${tool}` : tool, arguments: args }, { signal });
        const content = (r as { content?: Array<{ text?: string }> }).content ?? [];
        return { ok: true, text: content.map((c) => c.text ?? '').join('') };
      } catch (err) {
        return { ok: false, message: rpcMessage(err instanceof Error ? err.message : String(err)) };
      }
    },
    close: () => client.close().catch(() => {}),
  };
}

/** Drivers a suite opens as it goes, closed together when it ends. */
export function driverPool(): { open: (...args: Parameters<typeof driver>) => Promise<Driver>; closeAll: () => Promise<void> } {
  const drivers: Driver[] = [];
  return {
    async open(...args) {
      const d = await driver(...args);
      drivers.push(d);
      return d;
    },
    closeAll: async () => void (await Promise.all(drivers.map((d) => d.close()))),
  };
}

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';

export type Raw = Awaited<ReturnType<typeof rawPost>>;

/** One tools/call straight on the wire, to see the HTTP status and headers, for each path that can set them. */
export const RAW_PATHS = {
  async '2025 session'(url: URL, key: string, tool: string): Promise<Raw> {
    const auth = { authorization: `Bearer ${key}` };
    const init = await rawPost(
      url,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
      auth,
    );
    const session = { ...auth, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await rawPost(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), session);
    return rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: {} } }), session);
  },
  async '2026 stateless'(url: URL, key: string, tool: string): Promise<Raw> {
    const body = {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: tool, arguments: {}, _meta: { [PV]: '2026-07-28', [CAPS]: {} } },
    };
    return rawPost(url, JSON.stringify(body), {
      authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    });
  },
  /** LiteLLM's documented curl: no initialize, no jsonrpc, no id. */
  async 'sessionless curl'(url: URL, key: string, tool: string): Promise<Raw> {
    return rawPost(url, JSON.stringify({ method: 'tools/call', params: { name: tool, arguments: {} } }), {
      authorization: `Bearer ${key}`,
      accept: 'application/json',
    });
  },
};

/** One tools/call on alpha the way LiteLLM's docs curl it. */
export const curl = (gw: TestGateway, key: string, tool = 'echo') => RAW_PATHS['sessionless curl'](gw.mcpUrl('/mcp/alpha'), key, tool);

/** Waits until a replica accepts a key made on another (a listing: not a counted call). */
export async function knows(gw: TestGateway, key: string): Promise<void> {
  const list = JSON.stringify({ method: 'tools/list' });
  const auth = { authorization: `Bearer ${key}`, accept: 'application/json' };
  await until(async () => (await rawPost(gw.mcpUrl('/mcp/alpha'), list, auth)).status === 200, 'the replica to accept the key');
}

export async function counters(gw: TestGateway): Promise<Record<string, unknown>> {
  const r = await fetch(gw.url + '/health/readiness');
  return ((await r.json()) as { rate_limits: Record<string, unknown> }).rate_limits;
}

/** A gateway config in front of one server `alpha`, with toolgate_settings. */
export const config = (url: string, settings: Record<string, unknown>) =>
  `mcp_servers:\n  alpha: { url: "${url}" }\ntoolgate_settings: ${JSON.stringify(settings)}\n`;
