import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import type { PolicyStage } from '../policy/stage.js';
import type { ServerRegistry } from '../registry/registry.js';
import { StoredServers } from '../registry/stored-servers.js';
import { SealedValues } from '../store/sealed-values.js';
import type { Store } from '../store/types.js';
import { EMPTY_ALLOWLIST, parseAllowlist } from '../upstream/egress.js';
import type { ServerHealth, ServerRouteDeps } from './servers.js';

/**
 * The server routes' dependencies, and with store_model_in_db the stored servers loaded into the
 * registry (before the gateway listens) and kept in sync with the store from then on.
 */
export async function startServerPlane(
  config: GatewayConfig,
  opts: { store: Store; registry: ServerRegistry; policy: PolicyStage; log: Logger; health?: ServerHealth },
): Promise<{ deps: ServerRouteDeps; stop(): void }> {
  const s = config.storedServers;
  const seal = s.saltKey ? new SealedValues(s.saltKey) : undefined;
  const configNames = new Set(config.servers.map((c) => c.name));
  // Stored servers never read the gateway's environment (os.environ/ is refused at write time): an
  // API writer must not be able to send the gateway's variables to a URL of their choosing.
  const env = {};
  let stored: StoredServers | undefined;
  if (s.enabled) {
    stored = new StoredServers(opts.store, opts.registry, { configNames, seal, env, file: config.file, log: opts.log });
    await stored.start();
  }
  const allowlist = config.settings.upstreamAllowlist ? parseAllowlist(config.settings.upstreamAllowlist) : EMPTY_ALLOWLIST;
  return {
    deps: {
      registry: opts.registry,
      policy: opts.policy,
      stored,
      configNames,
      health: opts.health,
      write: { enabled: s.enabled, seal, stdioExtraCommands: s.stdioExtraCommands, allowlist, env, file: config.file },
    },
    stop: () => stored?.stop(),
  };
}
