import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { Resolver } from '../../src/upstream/egress.js';
import { startCatalogServer, tool, type CatalogServer } from '../fixtures/catalog-servers.js';
import { connectClient, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * API-registered servers (origin 'api') connect through the SSRF guard on the resolved address;
 * config.yaml servers at the same address are trusted as written. The resolver is injected: names
 * under .test resolve to the fixture on 127.0.0.1, which is loopback and not allow-listed by default.
 */
describe('connect-time SSRF guard for API-registered servers', () => {
  let upstream: CatalogServer;
  let gw: TestGateway;
  const resolve: Resolver = async (host) => {
    if (host.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };

  before(async () => {
    upstream = await startCatalogServer({ name: 'fixture', tools: [tool('ping')] });
    const port = new URL(upstream.url).port;
    gw = await startTestGateway(
      `mcp_servers:\n  trusted:\n    url: ${upstream.url}\ntoolgate_settings:\n  upstream_allowlist: [allowed.test]\n`,
      {},
      0,
      { resolve },
    );
    const api = parseConfig(
      `mcp_servers:\n  allowed:\n    url: http://allowed.test:${port}/mcp\n  denied:\n    url: http://denied.test:${port}/mcp\n` +
        `  literal:\n    url: ${upstream.url}\n  metadata:\n    url: http://169.254.169.254:${port}/mcp\n`,
      'api.yaml',
      {},
    );
    for (const s of api.servers) gw.registry.add({ ...s, origin: 'api' });
  });
  after(async () => {
    await gw?.close();
    await upstream?.stop();
  });

  const tools = async (server: string) => {
    const client = await connectClient(gw.mcpUrl(`/mcp/${server}`));
    try {
      return (await client.listTools()).tools.map((t) => t.name);
    } finally {
      await client.close();
    }
  };

  it('connects an API server whose name the allowlist admits, and a config server on loopback', async () => {
    assert.deepEqual(await tools('allowed'), ['ping']);
    assert.deepEqual(await tools('trusted'), ['ping']);
  });

  it('refuses an API server whose name resolves to loopback at connect time, naming host, address and the setting', async () => {
    const initializes = upstream.count('initialize');
    await assert.rejects(
      tools('denied'),
      /"denied\.test" \(127\.0\.0\.1\) is a loopback address; add the host or its CIDR to toolgate_settings\.upstream_allowlist/,
    );
    await assert.rejects(tools('literal'), /127\.0\.0\.1 is a loopback address/);
    await assert.rejects(tools('metadata'), /169\.254\.169\.254 is a link-local or cloud-metadata address, which is always refused/);
    assert.equal(upstream.count('initialize'), initializes, 'no refused request reached the upstream');
    assert.match(gw.registry.get('denied')!.health().error!, /loopback/);
  });
});
