import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig, ServerConfig } from './config/types.js';
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
import { parseAllowlist, type Resolver } from './upstream/egress.js';
import { Upstream } from './upstream/upstream.js';
import { connectionTestRoutes } from './admin/connection-test.js';
import { healthRoutes } from './admin/health-routes.js';
import { createRestFacade } from './edge/rest-facade.js';
import { HealthChecks } from './registry/health-checks.js';
import { CatalogStore } from './router/catalog.js';
import { startIdentityPlane } from './admin/identity-plane.js';
import { startServerPlane } from './admin/server-plane.js';
import { serverRoutes, type ServerRouteDeps } from './admin/servers.js';
import { recordAudit } from './admin/audit.js';
import { pinRoutes } from './admin/pin-routes.js';
import { Alerts } from './policy/guardrails/alerts.js';
import { GuardrailHook } from './policy/guardrails/hook.js';
import { startPinning } from './policy/pins/pinning.js';
import { openStore } from './store/open.js';
import { startSpend } from './policy/spend/spend.js';
import { spendRoutes } from './admin/spend-routes.js';
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
  /** Background health checks: `status(name)` (last result) and `check(name)` (a live probe now). */
  health: HealthChecks;
  /** Guardrail blocks and pinning drift raised so far (counts by alert), beside their log lines and audit rows. */
  alerts: Alerts;
  close(): Promise<void>;
}

/** Wires config → store → identity → registry → policy → router → edge and starts listening. */
export interface StartOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** A store opened by the caller (tests share one); the gateway then leaves closing it to them. */
  store?: Store;
  /** How API-registered servers' host names resolve for the SSRF guard (tests inject one); default dns.lookup. */
  resolve?: Resolver;
}

export async function startGateway(config: GatewayConfig, opts: StartOptions): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  const allowlist = parseAllowlist(config.settings.upstreamAllowlist ?? []);
  const transports = transportFactory({
    maxResponseBytes: config.settings.maxUpstreamResponseBytes,
    egress: { allowlist, resolve: opts.resolve },
  });
  // The one key-derivation object: every sealed token (requestState, cursors, task handles) derives
  // its key from it. Without a configured secret it is one per process, which is right for a single
  // replica; replicas behind one load balancer must share `state_secret`.
  if (!config.settings.stateSecret) log.debug('no state_secret configured: tokens verify on this process only');
  const keys = new TokenKeys(config.settings.stateSecret ?? randomBytes(32));
  const stateTokens = new StateTokens(keys, 'tg2');
  const makeUpstream = (s: ServerConfig) =>
    new Upstream(s, {
      log,
      // An API-registered server's token endpoint is fetched through the SSRF guard like the server itself.
      credentials: credentialsFor(s, { log, ...(s.origin === 'api' && { fetchImpl: transports.guardedFetch }) }),
      createTransport: transports.create,
      clientInfo: { name: 'toolgate', version: TOOLGATE_VERSION },
      stateTokens,
      maxSessions: config.settings.maxSessionsPerUpstream,
      // A shared upstream session outlives its last client briefly (never longer than a client session would).
      idleGraceMs: Math.min(5_000, config.settings.sessionTtlMs),
    });
  const registry = new ServerRegistry(makeUpstream);
  for (const s of config.servers) registry.add(s);
  // Config servers start warming now, while the store opens: a stdio server's spawn and initialize
  // (server-everything: about half a second) is most of the time to ready. Their names are taken
  // first, so a stored server of the same name still loses to the config one (startServerPlane).
  // Warming means every upstream's default session comes up in the background: readiness reports
  // each one's state, and the first client does not pay for a cold start. A failure is not fatal.
  const warm = (u: Upstream) =>
    u.describe().catch((err: Error) => log.warn({ server: u.name, err: err.message }, 'upstream not available at start'));
  const warming = new Map([...registry.values()].map((u) => [u, warm(u)]));
  // What wire() opened, closed in reverse if the start fails before the gateway listens.
  const opened: Array<() => Promise<unknown>> = [];
  try {
    return await wire();
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => {});
    // Nothing listens: the servers already spawned or connected go too, once their first warm-up has
    // settled (a stdio child still initializing would otherwise outlive the closed registry), 2 s at most.
    await Promise.race([Promise.allSettled(warming.values()), new Promise((r) => setTimeout(r, 2_000).unref())]);
    await registry.close();
    await transports.close();
    throw err;
  }

  async function wire(): Promise<Gateway> {
    // Before anything listens: a store that cannot open (in use, newer schema, unreachable) stops the start.
    const { databaseUrl, dataDir } = config.settings;
    const store = opts.store ?? (await openStore({ databaseUrl, dataDir, configFile: config.file, log }));
    if (!opts.store) opened.push(() => store.close());
    // Spend is loaded before serving: budget checks read it from memory from the first call on.
    const spend = await startSpend({ store, log, bufferRows: config.settings.spendLogBufferRows });
    opened.push(() => spend.close());
    // The server routes are mounted now and read their dependencies (registry, policy) once those exist.
    let serverDeps: ServerRouteDeps | undefined;
    // Built below, once the registry and the policy exist; the route handlers only run after listen.
    let health!: HealthChecks;
    let policy!: PolicyStage;
    // Guardrail blocks and pinning drift: logged and counted at once, audited in the background.
    const alerts = new Alerts(log, (row) => recordAudit(store, row));
    const pinning = await startPinning(store, config.servers, alerts, log);
    opened.push(async () => pinning.stop());
    const pins = pinRoutes({
      book: pinning.book,
      servers: { get: (n) => registry.get(n), names: () => registry.names() },
      listTools: (server) => pinning.tools.list(server),
    });
    const identity = await startIdentityPlane({
      store,
      masterKey: config.masterKey,
      servers: config.servers,
      access: config.access,
      log,
      routes: [
        spendRoutes(() => spend.writer.stats()),
        pins,
        serverRoutes(() => serverDeps),
        healthRoutes(() => ({
          checks: health,
          names: () => registry.names(),
          visible: (c, s) => policy.serverVisible(c, s),
          nameOf: (id) => serverDeps?.stored?.nameOf(id),
          idOf: (name) => serverDeps?.stored?.idOf(name),
        })),
        connectionTestRoutes(() => ({ upstream: makeUpstream, allowlist, resolve: opts.resolve, env: process.env, log })),
      ],
    });
    opened.push(async () => identity.close());
    spend.useIdentity(identity.snapshot);
    // Grants name servers and access groups, and allow_all_keys is a server's own: access follows the set.
    registry.subscribe(() => identity.setServers(registry.configs()));
    pinning.attach(registry);
    const guardrails = new GuardrailHook(config.guardrails ?? [], alerts, log, pinning.observer);
    const counters = await openCounters(config.settings.rateLimits, log);
    opened.push(() => counters.close());
    // Order: pinning, limits, budgets, guardrails; the spend recorder around them all.
    policy = new PolicyStage(
      registry,
      config.settings.toolPrefixSeparator,
      [pinning.hook, new LimitsHook(counters, currentCaller(identity.snapshot)), spend.budget, guardrails],
      spend.recorder(registry),
    );
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
    health = new HealthChecks(registry, {
      intervalMs: config.settings.healthCheckIntervalMs ?? 60_000,
      timeoutMs: config.settings.listingTimeoutMs,
      log,
    });
    // Stored servers (store_model_in_db) join the registry before the gateway listens.
    const serverPlane = await startServerPlane(config, { store, registry, policy, log, health });
    opened.push(async () => serverPlane.stop());
    serverDeps = serverPlane.deps;
    const upstreamHeaders = upstreamHeadersResolver(registry);
    const rest = createRestFacade({
      keys: identity.keys,
      servers: registry,
      router,
      policy,
      catalog: new CatalogStore(registry, { ttlMs: config.settings.catalogTtlMs, listingTimeoutMs: config.settings.listingTimeoutMs, log }),
      separator: config.settings.toolPrefixSeparator,
      nameOf: (id) => serverDeps?.stored?.nameOf(id),
      upstreamHeaders,
      limits: config.settings,
      log,
    });
    let ready = false;
    const server = createEdgeServer({
      log,
      keys: identity.keys,
      routes: [identity.admin, rest],
      scopes: new ScopeResolver(registry, policy),
      upstreams: registry,
      sessions,
      router,
      limits: config.settings,
      http: config.settings,
      exchanges,
      upstreamHeaders,
      allowedOrigins: config.settings.allowedOrigins,
      loopbackOnly: host === '127.0.0.1' || host === 'localhost' || host === '::1',
      ready: () => ready,
      health: (name) => health.status(name),
      status: () => ({ rate_limits: counters.status() }),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 4000, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    // Ready once every server's first warm-up has settled: the config servers' (under way since the
    // start) and the stored servers' (which joined the registry just before listening).
    Promise.allSettled([...registry.values()].map((u) => warming.get(u) ?? warm(u))).then(() => (ready = true));
    warming.clear();
    health.start();
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
      health,
      alerts,
      async close() {
        health.stop();
        identity.close();
        serverPlane.stop();
        pinning.stop();
        await sessions.closeAll();
        exchanges.closeAll();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await registry.close();
        await transports.close();
        await counters.close();
        // Every answered call's spend row is written before the store closes.
        await spend.close();
        if (!opts.store) await store.close();
      },
    };
  }
}
