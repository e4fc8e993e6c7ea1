import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.js';
import { createEdgeServer } from './edge/server.js';
import { ExchangeStore } from './edge/mrtr.js';
import { SessionStore } from './edge/session-store.js';
import { upstreamHeadersResolver } from './edge/upstream-headers.js';
import { TokenKeys } from './mcp/sealed.js';
import { StateTokens } from './mcp/state-token.js';
import { PolicyStage } from './policy/stage.js';
import { LimitsHook } from './policy/limits/limits-hook.js';
import { openCounters } from './policy/limits/open-counters.js';
import { currentCaller } from './policy/limits/current-caller.js';
import { ServerRegistry } from './registry/registry.js';
import { createAggregateFactory } from './router/aggregate.js';
import { createCursorCodec } from './router/cursor.js';
import { GatewayRouter } from './router/gateway-router.js';
import { ScopeResolver } from './router/scope.js';
import { TaskHandles } from './router/tasks.js';
import { credentialsFor } from './upstream/credentials/index.js';
import { transportFactory } from './upstream/factory.js';
import { Upstream } from './upstream/upstream.js';
import { startIdentityPlane } from './admin/identity-plane.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';

import { TOOLGATE_VERSION } from './version.js';
export { TOOLGATE_VERSION };

export interface Gateway {
  server: Server;
  url: string;
  /** The servers this gateway fronts: add, change and remove them at runtime here. */
  registry: ServerRegistry;
  /** The same registry, under its former name (reads: `get`, `values`). */
  upstreams: ServerRegistry;
  /** The control plane's store (embedded, or PostgreSQL with DATABASE_URL), open and migrated. */
  store: Store;
  close(): Promise<void>;
}

/** Wires config → store → identity → registry → policy → router → edge and starts listening. */
export interface StartOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** A store opened by the caller (tests share one); the gateway then leaves closing it to them. */
  store?: Store;
}

export async function startGateway(config: GatewayConfig, opts: StartOptions): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  // Before anything listens: a store that cannot open (in use, newer schema, unreachable) stops the start.
  const { databaseUrl, dataDir } = config.settings;
  const store = opts.store ?? (await openStore({ databaseUrl, dataDir, configFile: config.file, log }));
  const identity = await startIdentityPlane({ store, masterKey: config.masterKey, servers: config.servers, access: config.access, log });
  const transports = transportFactory({ maxResponseBytes: config.settings.maxUpstreamResponseBytes });
  // The one key-derivation object: every sealed token (requestState, cursors, task handles) derives
  // its key from it. Without a configured secret it is one per process, which is right for a single
  // replica; replicas behind one load balancer must share `state_secret`.
  if (!config.settings.stateSecret) log.debug('no state_secret configured: tokens verify on this process only');
  const keys = new TokenKeys(config.settings.stateSecret ?? randomBytes(32));
  const stateTokens = new StateTokens(keys, 'tg2');
  const registry = new ServerRegistry(
    (s) =>
      new Upstream(s, {
        log,
        credentials: credentialsFor(s, { log }),
        createTransport: transports.create,
        clientInfo: { name: 'toolgate', version: TOOLGATE_VERSION },
        stateTokens,
        maxSessions: config.settings.maxSessionsPerUpstream,
        // A shared upstream session outlives its last client briefly (never longer than a client session would).
        idleGraceMs: Math.min(5_000, config.settings.sessionTtlMs),
      }),
  );
  for (const s of config.servers) registry.add(s);
  // Grants name servers and access groups, and allow_all_keys is a server's own: access follows the set.
  registry.subscribe(() => identity.setServers(registry.configs()));
  const counters = await openCounters(config.settings.rateLimits, log);
  // Order: pinning, limits, budgets, guardrails.
  const policy = new PolicyStage(registry, config.settings.toolPrefixSeparator, [
    new LimitsHook(counters, currentCaller(identity.snapshot)),
  ]);
  const sessions = new SessionStore(config.settings.sessionTtlMs);
  const exchanges = new ExchangeStore(keys, config.settings.requestStateTtlMs, config.settings.replicaUrl);
  const tasks = new TaskHandles(keys);
  const aggregate = createAggregateFactory({
    servers: registry,
    policy,
    settings: config.settings,
    log,
    tasks,
    cursors: createCursorCodec(keys),
  });
  const router = new GatewayRouter({ servers: registry, policy, tasks }, aggregate);
  let ready = false;
  const server = createEdgeServer({
    log,
    keys: identity.keys,
    routes: [identity.admin],
    scopes: new ScopeResolver(registry, policy),
    upstreams: registry,
    sessions,
    router,
    limits: config.settings,
    http: config.settings,
    exchanges,
    upstreamHeaders: upstreamHeadersResolver(registry),
    allowedOrigins: config.settings.allowedOrigins,
    loopbackOnly: host === '127.0.0.1' || host === 'localhost' || host === '::1',
    ready: () => ready,
    status: () => ({ rate_limits: counters.status() }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4000, host, () => resolve());
  }).catch(async (err: unknown) => {
    await counters.close();
    await store.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  // Warm every upstream's default session in the background: readiness reports each one's state,
  // and the first client does not pay for a cold start. A failure here is not fatal.
  const warm = (u: Upstream) =>
    u.describe().catch((err: Error) => log.warn({ server: u.name, err: err.message }, 'upstream not available at start'));
  Promise.allSettled([...registry.values()].map(warm)).then(() => (ready = true));
  // Servers defined later are warmed the same way (readiness shows them as they come up).
  registry.subscribe((e) => {
    if (e.type !== 'removed') void warm(e.upstream);
  });
  return {
    server,
    url: `http://${host}:${port}`,
    registry,
    upstreams: registry,
    store,
    async close() {
      identity.close();
      await sessions.closeAll();
      exchanges.closeAll();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await registry.close();
      await transports.close();
      await counters.close();
      if (!opts.store) await store.close();
    },
  };
}
