import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, uid } from '../admin/api.js';
import { textOf, type TestGateway } from '../helpers/gateway.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { ENGINES, type EngineRun } from '../store/engines.js';
import type { Store } from '../../src/store/types.js';
import { startServersGateway } from './setup.js';

/** What a key that is not an admin sees of a stored server, and the stored server_id accepted wherever a server is named. */
describe('stored servers seen by a key', () => {
  let run: EngineRun;
  let store: Store;
  let gw: TestGateway;
  let upstream: HeaderRecorder;
  let key: string;
  let id: string;
  let name: string;

  before(async () => {
    run = await ENGINES[0]!.run();
    store = await run.open();
    gw = await startServersGateway(store);
    upstream = await startHeaderRecorder();
    key = (await api(gw, 'POST', '/key/generate', { key_alias: 'viewer-' + uid() })).json.key;
    name = 'shown_' + uid();
    const made = await api(gw, 'POST', '/v1/mcp/server', {
      server_name: name,
      url: upstream.url,
      allow_all_keys: true,
      instructions: 'INTERNAL-runbook-detail',
      mcp_info: { description: 'a public description' },
    });
    assert.equal(made.status, 201, made.text);
    id = made.json.server_id;
  });
  after(async () => {
    await gw?.close();
    await upstream?.stop();
    await store?.close();
    await run?.cleanup();
  });

  test('a key sees the public extra fields (mcp_info) only; an admin sees them all', async () => {
    const one = await api(gw, 'GET', `/v1/mcp/server/${id}`, undefined, key);
    const listed = (await api(gw, 'GET', '/v1/mcp/server', undefined, key)).json.find((s: any) => s.server_id === id);
    for (const v of [one.json, listed]) {
      assert.deepEqual(v.mcp_info, { description: 'a public description' });
      assert.equal(v.instructions, undefined);
    }
    assert.ok(!one.text.includes('INTERNAL-runbook-detail'));
    assert.equal((await api(gw, 'GET', `/v1/mcp/server/${id}`)).json.instructions, 'INTERNAL-runbook-detail');
  });

  test('the health route takes and answers with the stored server_id', async () => {
    const h = await api(gw, 'GET', `/v1/mcp/server/health?server_ids=${id}`, undefined, key);
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.length, 1, h.text);
    assert.equal(h.json[0].server_id, id);
    assert.equal(h.json[0].server_name, name);
    assert.ok(['healthy', 'unhealthy', 'unknown'].includes(h.json[0].status));
    const all = await api(gw, 'GET', '/v1/mcp/server/health', undefined, key);
    assert.ok(
      all.json.some((e: { server_id: string; server_name: string }) => e.server_id === id && e.server_name === name),
      'a full listing names a stored server by its server_id, as /v1/mcp/server does',
    );
  });

  test('the REST facade lists and calls by the stored server_id', async () => {
    const listed = await api(gw, 'GET', `/mcp-rest/tools/list?server_id=${id}`, undefined, key);
    assert.equal(listed.status, 200, listed.text);
    assert.ok(
      listed.json.tools.some((t: { name: string }) => t.name === 'echo'),
      listed.text,
    );
    const called = await api(gw, 'POST', '/mcp-rest/tools/call', { server_id: id, name: 'echo', arguments: { m: 1 } }, key);
    assert.equal(called.status, 200, called.text);
    assert.equal(textOf(called.json), '{"m":1}');
  });
});
