import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, uid } from '../admin/api.js';
import { until } from '../helpers/within.js';
import { isSealed, SealedValues, saltKeyFrom } from '../../src/store/sealed-values.js';
import { RESYNC_KIND } from '../../src/store/types.js';
import { embeddedRun } from '../store/engines.js';
import { EVERYTHING_JS, SALT, startServersGateway } from './setup.js';

describe('sealed values (AES-256-GCM)', () => {
  const seal = new SealedValues(SALT);

  test('round trip, a fresh IV per value, the version prefix', () => {
    const a = seal.seal('secret value');
    const b = seal.seal('secret value');
    assert.ok(isSealed(a) && a.startsWith('tgs1:'));
    assert.notEqual(a, b, 'random IV: equal plaintexts seal differently');
    assert.equal(seal.open(a), 'secret value');
    assert.ok(!a.includes('secret'));
    assert.deepEqual(seal.openMap(seal.sealMap({ x: '1', y: '' })), { x: '1', y: '' });
  });

  test('another key, an altered byte, a relabelled version or a truncated value do not open', () => {
    const sealed = seal.seal('secret value');
    assert.throws(() => new SealedValues('another-salt-key').open(sealed), /does not open with this salt key/);
    const raw = Buffer.from(sealed.slice(5), 'base64url');
    raw[raw.length - 1] ^= 1;
    assert.throws(() => seal.open('tgs1:' + raw.toString('base64url')), /does not open/);
    assert.throws(() => seal.open('tgs2:' + sealed.slice(5)), /not a sealed value/);
    assert.throws(() => seal.open('tgs1:AAAA'), /truncated/);
    assert.throws(() => new SealedValues(''), /empty/);
  });

  test("the salt key is Toolgate's variable, else LiteLLM's", () => {
    assert.equal(saltKeyFrom({ TOOLGATE_SALT_KEY: 'a', LITELLM_SALT_KEY: 'b' }), 'a');
    assert.equal(saltKeyFrom({ LITELLM_SALT_KEY: 'b' }), 'b');
    assert.equal(saltKeyFrom({}), undefined);
  });
});

describe('stored servers after a missed change event', { timeout: 60_000 }, () => {
  test('a resync reloads them; a server sealed with another salt key is logged and skipped, not fatal', async () => {
    const run = await embeddedRun();
    const store = await run.open();
    const gw = await startServersGateway(store);
    try {
      const name = 'missed_' + uid();
      const made = await api(gw, 'POST', '/v1/mcp/server', { server_name: name, url: 'http://127.0.0.1:9/mcp' });
      // A row changed behind the gateway's back (as if its NOTIFY was lost), then a resync.
      await store.query('UPDATE toolgate_mcp_servers SET description = $1, updated_at = now() WHERE server_id = $2', [
        'changed',
        made.json.server_id,
      ]);
      const other = new SealedValues('a-different-salt-key').seal(JSON.stringify({ auth_value: 'x' }));
      await store.query(
        "INSERT INTO toolgate_mcp_servers (server_id, server_name, transport, url, auth_type, credentials) VALUES ($1, $2, 'http', 'http://127.0.0.1:9/mcp', 'bearer_token', $3)",
        ['foreign-' + uid(), 'foreign_' + uid(), other],
      );
      await store.publish({ kind: RESYNC_KIND });
      await until(() => gw.registry.get(name)?.config.description === 'changed', 'the resync to apply the missed change');
      await until(() => gw.logs.some((l) => l.includes('stored server cannot be read')), 'the unreadable server logged');
      assert.equal((await api(gw, 'GET', '/v1/mcp/server')).status, 200, 'the gateway keeps serving');
    } finally {
      await gw.close();
      await store.close();
      await run.cleanup();
    }
  });
});

describe('URLs and args that may hold a secret', { timeout: 60_000 }, () => {
  test('a URL with userinfo is refused; a query string or args are sealed at rest, and sent back masked they stay', async () => {
    const run = await embeddedRun();
    const store = await run.open();
    const gw = await startServersGateway(store);
    try {
      const userinfo = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'u_' + uid(), url: 'http://user:pw-123@127.0.0.1:9/mcp' });
      assert.equal(userinfo.status, 400, userinfo.text);
      assert.equal(userinfo.json.error.param, 'url');
      assert.match(userinfo.json.error.message, /user name or password.*auth_type.*credentials/);
      assert.ok(!userinfo.text.includes('pw-123'));

      const queried = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'q_' + uid(), url: 'http://127.0.0.1:9/mcp?api_key=k-1' });
      assert.equal(queried.status, 201, queried.text);
      assert.equal(queried.json.url, 'http://127.0.0.1:9/mcp?…');
      const stdio = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 's_' + uid(),
        transport: 'stdio',
        command: 'node',
        args: [EVERYTHING_JS, 'stdio', '--token', 'tok-1'],
      });
      assert.equal(stdio.status, 201, stdio.text);
      const [row] = await store.query<{ url: string; args: unknown }>('SELECT url FROM toolgate_mcp_servers WHERE server_id = $1', [
        queried.json.server_id,
      ]);
      assert.ok(isSealed(row!.url), 'the URL with a query is sealed');
      const [argsRow] = await store.query<{ args: unknown }>('SELECT args FROM toolgate_mcp_servers WHERE server_id = $1', [
        stdio.json.server_id,
      ]);
      assert.ok(isSealed(argsRow!.args), 'args are sealed');

      // GET, then PUT what it showed: the masked URL and args mean "unchanged".
      for (const id of [queried.json.server_id, stdio.json.server_id]) {
        const shown = await api(gw, 'GET', `/v1/mcp/server/${id}`);
        assert.equal((await api(gw, 'PUT', '/v1/mcp/server', { ...shown.json, description: 'edited' })).status, 202);
      }
      await until(() => gw.registry.get(queried.json.server_name)?.config.description === 'edited', 'the edit applied');
      assert.equal(gw.registry.get(queried.json.server_name)!.config.url, 'http://127.0.0.1:9/mcp?api_key=k-1');
      await until(() => gw.registry.get(stdio.json.server_name)?.config.description === 'edited', 'the stdio edit applied');
      assert.deepEqual(gw.registry.get(stdio.json.server_name)!.config.args, [EVERYTHING_JS, 'stdio', '--token', 'tok-1']);
    } finally {
      await gw.close();
      await store.close();
      await run.cleanup();
    }
  });

  test('a stored stdio row whose env sets PATH (written before the check) is not loaded', async () => {
    const run = await embeddedRun();
    const store = await run.open();
    const gw = await startServersGateway(store);
    try {
      const seal = new SealedValues(SALT);
      const id = 'legacy-' + uid();
      const name = 'legacy_' + uid();
      await store.query(
        "INSERT INTO toolgate_mcp_servers (server_id, server_name, transport, command, args, env) VALUES ($1, $2, 'stdio', 'node', $3::jsonb, $4::jsonb)",
        [id, name, JSON.stringify(seal.seal(JSON.stringify([EVERYTHING_JS, 'stdio']))), JSON.stringify(seal.sealMap({ PATH: '/tmp/x' }))],
      );
      await store.publish({ kind: 'server', id });
      await until(() => gw.logs.some((l) => l.includes('stored server is not valid') && l.includes('env.PATH')), 'the refusal logged');
      assert.equal(gw.registry.has(name), false);
    } finally {
      await gw.close();
      await store.close();
      await run.cleanup();
    }
  });

  test('without a salt key, a URL with a query string or stdio args is a 400 naming the salt-key variables', async () => {
    const run = await embeddedRun();
    const store = await run.open();
    const gw = await startServersGateway(store, { TOOLGATE_SALT_KEY: '', LITELLM_SALT_KEY: '' });
    try {
      const queried = await api(gw, 'POST', '/v1/mcp/server', { server_name: 'q_' + uid(), url: 'http://127.0.0.1:9/mcp?api_key=k-1' });
      const stdio = await api(gw, 'POST', '/v1/mcp/server', {
        server_name: 's_' + uid(),
        transport: 'stdio',
        command: 'node',
        args: [EVERYTHING_JS, 'stdio'],
      });
      for (const [r, param] of [
        [queried, 'url'],
        [stdio, 'args'],
      ] as const) {
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error.param, param);
        assert.match(r.json.error.message, /TOOLGATE_SALT_KEY.*LITELLM_SALT_KEY/);
      }
      assert.equal((await api(gw, 'POST', '/v1/mcp/server', { server_name: 'p_' + uid(), url: 'http://127.0.0.1:9/mcp' })).status, 201);
    } finally {
      await gw.close();
      await store.close();
      await run.cleanup();
    }
  });
});
