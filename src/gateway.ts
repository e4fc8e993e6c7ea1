import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.js';
import { createEdgeServer } from './edge/server.js';
import { randomBytes } from 'node:crypto';
import { ExchangeStore } from './edge/mrtr.js';
import { StateTokens } from './mcp/state-token.js';
import { SessionStore } from './edge/session-store.js';
import { upstreamHeadersResolver } from './edge/upstream-headers.js';
import { TaskHandles } from './router/tasks.js';
import { GatewayRouter } from './router/gateway-router.js';
import { ScopeResolver } from './router/scope.js';
import { credentialsFor } from './upstream/credentials/index.js';
import { transportFactory } from './upstream/factory.js';
import { Upstream } from './upstream/upstream.js';
import { createAggregateFactory } from './router/aggregate.js';
import { startIdentityPlane } from './admin/identity-plane.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';

import { TOOLGATE_VERSION } from './version.js';
export { TOOLGATE_VERSION };

export interface Gateway {
  server: Server;
  url: string;
  upstreams: Map<string, Upstream>;
  /** The control plane's store (embedded, or PostgreSQL with DATABASE_URL), open and migrated. */
  store: Store;
  close(): Promise<void>;
}

/** Wires config → upstreams → router → edge and starts listening. */
export async function startGateway(
  config: GatewayConfig,
  opts: { host?: string; port?: number; log: Logger; store?: Store },
): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  // Before anything listens: a store that cannot open (in use, newer schema, unreachable) stops the start.
  const { databaseUrl, dataDir } = config.settings;
  const store = opts.store ?? (await openStore({ databaseUrl, dataDir, configFile: config.file, log }));
  const identity = await startIdentityPlane({ store, masterKey: config.masterKey, servers: config.servers, access: config.access, log });
  const transports = transportFactory();
  const upstreams = new Map<string, Upstream>();
  const stateSecret = config.settings.stateSecret ?? randomBytes(32);
  const stateTokens = new StateTokens(stateSecret, 'tg2');
  for (const s of config.servers) {
    upstreams.set(
      s.name,
      new Upstream(s, {
        log,
        credentials: credentialsFor(s, { log }),
        createTransport: transports.create,
        clientInfo: { name: 'toolgate', version: TOOLGATE_VERSION },
        stateTokens,
      }),
    );
  }
  const sessions = new SessionStore(config.settings.sessionTtlMs);
  // requestState must verify on every replica: the configured secret, else one per process.
  const exchanges = new ExchangeStore(stateSecret, config.settings.requestStateTtlMs, config.settings.replicaUrl);
  // Task ids handed to clients are bound to their key with the same secret, on every replica.
  const tasks = new TaskHandles(stateSecret);
  const router = new GatewayRouter(upstreams, createAggregateFactory(upstreams, config, log, tasks), { ...config.settings, tasks });
  let ready = false;
  const server = createEdgeServer({
    log,
    keys: identity.keys,
    admin: identity.admin,
    scopes: new ScopeResolver(config.servers),
    upstreams,
    sessions,
    router,
    maxBodyBytes: config.settings.maxBodyBytes,
    exchanges,
    upstreamHeaders: upstreamHeadersResolver(config.servers),
    allowedOrigins: config.settings.allowedOrigins,
    loopbackOnly: host === '127.0.0.1' || host === 'localhost' || host === '::1',
    ready: () => ready,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4000, host, () => resolve());
  }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  // Warm every upstream's default session in the background: readiness reports each one's state,
  // and the first client does not pay for a cold start. A failure here is not fatal.
  Promise.allSettled(
    [...upstreams.values()].map((u) =>
      u.describe().catch((err: Error) => log.warn({ server: u.name, err: err.message }, 'upstream not available at start')),
    ),
  ).then(() => (ready = true));
  return {
    server,
    url: `http://${host}:${port}`,
    upstreams,
    store,
    async close() {
      identity.close();
      await sessions.closeAll();
      exchanges.closeAll();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await Promise.all([...upstreams.values()].map((u) => u.close()));
      await transports.close();
      if (!opts.store) await store.close();
    },
  };
}
