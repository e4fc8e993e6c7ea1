import { fileURLToPath } from 'node:url';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { Store } from '../../src/store/types.js';

export const SALT = 'test-salt-key-0123456789abcdef';
/** The fixture behind stdio servers registered in these tests: server-everything over stdio. */
export const EVERYTHING_JS = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/** A gateway with stored servers on, loopback upstreams admitted (the fixtures listen there), one config server. */
export function serversYaml(extra = ''): string {
  return `
general_settings:
  store_model_in_db: true
toolgate_settings:
  upstream_allowlist: ["127.0.0.1"]
mcp_servers:
  from_config: { url: "http://127.0.0.1:9/mcp" }
${extra}`;
}

export function startServersGateway(
  store: Store,
  env: Record<string, string | undefined> = { TOOLGATE_SALT_KEY: SALT },
  yaml = serversYaml(),
) {
  return startTestGateway(yaml, env, 0, { store });
}

export type { TestGateway };
