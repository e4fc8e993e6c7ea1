import type { Logger } from 'pino';
import type { AccessServer } from '../caller/grants.js';
import { KeyResolver } from '../caller/keys.js';
import { IdentitySnapshot } from '../caller/snapshot.js';
import { SnapshotSync } from '../caller/snapshot-sync.js';
import type { AccessSettings, ServerConfig } from '../config/types.js';
import type { Store } from '../store/types.js';
import { createAdminHandler, type AdminHandler, type AdminRoute } from './router.js';

export interface IdentityPlane {
  keys: KeyResolver;
  snapshot: IdentitySnapshot;
  /** The management routes; false for a path that is not one of them. */
  admin: AdminHandler;
  /** The configured servers changed: access is recomputed from the new set. */
  setServers(servers: readonly ServerConfig[]): void;
  close(): void;
}

export function accessServers(servers: readonly ServerConfig[]): AccessServer[] {
  return servers.map((s) => ({ name: s.name, accessGroups: s.accessGroups, allowAllKeys: s.allowAllKeys === true }));
}

/** Loads the identity snapshot from the store, keeps it in sync, and builds the key resolver and the management API on it. */
export async function startIdentityPlane(opts: {
  store: Store;
  masterKey: string | undefined;
  servers: readonly ServerConfig[];
  access: AccessSettings;
  log: Logger;
  /** More management route tables beside the identity ones (servers, spend...), each with the path prefixes it owns. */
  routes?: { routes: readonly AdminRoute[]; prefixes: readonly string[] }[];
}): Promise<IdentityPlane> {
  const snapshot = new IdentitySnapshot(accessServers(opts.servers), {
    requireKeyAccessDefined: opts.access.requireKeyMcpAccessDefined,
    defaultDeny: opts.access.defaultMcpAccess === 'deny',
  });
  const sync = new SnapshotSync(opts.store, snapshot, (err) => opts.log.warn({ err: err.message }, 'identity snapshot refresh failed'));
  await sync.start();
  const keys = new KeyResolver(opts.masterKey, snapshot);
  return {
    keys,
    snapshot,
    admin: createAdminHandler({ store: opts.store, snapshot, sync, log: opts.log, keys }, opts.routes),
    setServers: (servers) => snapshot.setServers(accessServers(servers)),
    close: () => sync.stop(),
  };
}
