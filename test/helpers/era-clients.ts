import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { TEST_KEY } from './gateway.js';

/** The four official clients of the matrix: SDK v2 pinned / auto / legacy negotiation, and SDK v1. */
export const CLIENT_KINDS = ['v2-pinned', 'v2-auto', 'v2-legacy', 'v1'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** What a client saw of the server-to-client requests it answered (directly, or through input_required rounds). */
export interface Seen {
  sampling: string[];
  elicitation: string[];
  /** Any other request the server sent: a capability the client never declared, for instance. */
  other: string[];
}

export interface EraClient {
  kind: ClientKind;
  /** The protocol version the client ended up speaking. */
  version: string | undefined;
  seen: Seen;
  listTools(): Promise<string[]>;
  callTool(name: string, args?: Record<string, unknown>): Promise<unknown>;
  /**
   * Starts watching for tools/list_changed (a subscriptions/listen stream in the 2026 era, the
   * session's own stream in 2025). It resolves once watching, with a function whose promise
   * settles on the next one (a promise of a promise would flatten into waiting for the change).
   */
  watchToolsChanged(): Promise<() => Promise<void>>;
  /** The same for notifications/resources/updated of `uri` (listen resourceSubscriptions, or resources/subscribe). */
  watchResource(uri: string): Promise<() => Promise<string>>;
  close(): Promise<void>;
}

export const SAMPLED_TEXT = 'sampled-by-matrix-client';
export const ELICITED_NAME = 'Ada Lovelace';

const AUTH = { authorization: `Bearer ${TEST_KEY}` };

function samplingAnswer(prompt: unknown, seen: Seen) {
  seen.sampling.push(String(prompt));
  return { role: 'assistant' as const, content: { type: 'text' as const, text: SAMPLED_TEXT }, model: 'matrix-model' };
}

/** Fills every required string field (and `name`) of a form elicitation. */
function elicitationAnswer(params: { message?: unknown; requestedSchema?: unknown }, seen: Seen) {
  seen.elicitation.push(String(params.message));
  const schema = (params.requestedSchema ?? {}) as { properties?: Record<string, { type?: string }>; required?: string[] };
  const content: Record<string, string> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.type === 'string' && (key === 'name' || schema.required?.includes(key))) content[key] = ELICITED_NAME;
  }
  return { action: 'accept' as const, content };
}

/**
 * One client of `kind` connected to `url`. With `declare` (the default) it declares sampling and
 * form elicitation and answers both; without, it declares nothing and records any request it gets.
 */
export async function connectEraClient(kind: ClientKind, url: URL, declare = true): Promise<EraClient> {
  const seen: Seen = { sampling: [], elicitation: [], other: [] };
  const capabilities = declare ? { sampling: {}, elicitation: { form: {} } } : {};
  if (kind === 'v1') {
    const client = new ClientV1({ name: 'matrix-v1', version: '1.0.0' }, { capabilities });
    if (declare) {
      client.setRequestHandler(CreateMessageRequestSchema, async (req) => samplingAnswer(JSON.stringify(req.params.messages), seen));
      client.setRequestHandler(ElicitRequestSchema, async (req) => elicitationAnswer(req.params, seen));
    }
    client.fallbackRequestHandler = async (req) => {
      seen.other.push(req.method);
      throw new Error(`not declared: ${req.method}`);
    };
    const transport = new TransportV1(url, { requestInit: { headers: AUTH } });
    await client.connect(transport);
    return {
      kind,
      version: transport.protocolVersion,
      seen,
      listTools: async () => (await client.listTools()).tools.map((t) => t.name),
      callTool: (name, args = {}) => client.callTool({ name, arguments: args }),
      async watchToolsChanged() {
        const changed = new Promise<void>((resolve) =>
          client.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()),
        );
        return () => changed;
      },
      async watchResource(uri) {
        const updated = new Promise<string>((resolve) =>
          client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => resolve(n.params.uri)),
        );
        await client.subscribeResource({ uri });
        return () => updated;
      },
      close: () => client.close(),
    };
  }
  const mode = kind === 'v2-pinned' ? { pin: '2026-07-28' } : kind === 'v2-auto' ? ('auto' as const) : ('legacy' as const);
  const client = new Client({ name: `matrix-${kind}`, version: '1.0.0' }, { capabilities, versionNegotiation: { mode } });
  if (declare) {
    client.setRequestHandler('sampling/createMessage', async (req) => samplingAnswer(JSON.stringify(req.params.messages), seen));
    client.setRequestHandler('elicitation/create', async (req) =>
      elicitationAnswer(req.params as { message?: unknown; requestedSchema?: unknown }, seen),
    );
  }
  client.fallbackRequestHandler = async (req) => {
    seen.other.push(req.method);
    throw new Error(`not declared: ${req.method}`);
  };
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: AUTH } }));
  const subscriptions: Array<{ close(): Promise<void> }> = [];
  return {
    kind,
    version: client.getNegotiatedProtocolVersion(),
    seen,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    callTool: (name, args = {}) => client.callTool({ name, arguments: args }),
    async watchToolsChanged() {
      const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
      if (isModernKind(kind)) subscriptions.push(await client.listen({ toolsListChanged: true }));
      return () => changed;
    },
    async watchResource(uri) {
      const updated = new Promise<string>((resolve) =>
        client.setNotificationHandler('notifications/resources/updated', (n) => resolve(String(n.params.uri))),
      );
      if (isModernKind(kind)) subscriptions.push(await client.listen({ resourceSubscriptions: [uri] }));
      else await client.subscribeResource({ uri });
      return () => updated;
    },
    async close() {
      for (const s of subscriptions) await s.close().catch(() => {});
      await client.close();
    },
  };
}

export function isModernKind(kind: ClientKind): boolean {
  return kind === 'v2-pinned' || kind === 'v2-auto';
}
