import { isObject, type JsonRpcRequest } from './jsonrpc.js';

/** Reserved `_meta` keys of the 2026-07-28 per-request envelope. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Methods a 2026-07-28 server answers: the core spec plus the tasks extension (which dropped tasks/result and tasks/list). */
export const MODERN_METHODS = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'completion/complete',
  'subscriptions/listen',
  'tasks/get',
  'tasks/cancel',
  'tasks/update',
]);

/** Results that carry `ttlMs` and `cacheScope` (CacheableResult in the 2026-07-28 schema). */
export const CACHEABLE_METHODS = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** The body field `Mcp-Name` must mirror, per method. */
export function nameField(method: string): 'name' | 'uri' | 'taskId' | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  if (method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel') return 'taskId';
  return undefined;
}

/** The envelope's protocol version claim, if the message makes one. */
export function envelopeVersion(msg: unknown): string | undefined {
  if (!isObject(msg) || !isObject(msg.params) || !isObject(msg.params._meta)) return undefined;
  const v = msg.params._meta[META.protocolVersion];
  return typeof v === 'string' ? v : undefined;
}

/** Header values that are not plain visible ASCII travel as `=?base64?...?=`; decode before comparing. */
export function decodeHeaderValue(v: string): string {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(v);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : v;
}

export function envelope(req: JsonRpcRequest): Record<string, unknown> {
  return isObject(req.params) && isObject(req.params._meta) ? req.params._meta : {};
}
