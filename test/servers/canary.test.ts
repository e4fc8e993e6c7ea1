import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { api, uid, type ApiResponse } from '../admin/api.js';
import { connectClient, textOf } from '../helpers/gateway.js';
import { startHeaderRecorder } from '../fixtures/header-recorder.js';
import { adminQuery, ENGINES } from '../store/engines.js';
import { EVERYTHING_JS, startServersGateway } from './setup.js';

/** Every file under a directory, as bytes (the embedded store's raw files). */
async function rawFiles(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name)));
  }
  return out;
}

for (const engine of ENGINES) {
  describe(`stored credentials never leave sealed (${engine.name})`, { timeout: 90_000 }, () => {
    test('a credential sent through the API is in no response, log line, audit row or raw store dump', async () => {
      const canaries = [
        'CANARY-auth-' + uid() + uid(),
        'CANARY-header-' + uid() + uid(),
        'CANARY-env-' + uid() + uid(),
        'CANARY-new-' + uid() + uid(),
        'CANARYquery' + uid() + uid(),
        'CANARY-arg-' + uid() + uid(),
      ];
      const [authValue, headerValue, envValue, newValue, queryValue, argValue] = canaries;
      const run = await engine.run();
      const store = await run.open();
      const upstream = await startHeaderRecorder();
      const gw = await startServersGateway(store);
      const responses: ApiResponse[] = [];
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await api(gw, method, path, body);
        responses.push(r);
        return r;
      };
      try {
        const name = 'secret_' + uid();
        const made = await call('POST', '/v1/mcp/server', {
          server_name: name,
          url: `${upstream.url}?api_key=${queryValue}`,
          auth_type: 'bearer_token',
          credentials: { auth_value: authValue },
          static_headers: { 'x-upstream-key': headerValue },
        });
        assert.equal(made.status, 201, made.text);
        assert.deepEqual(made.json.credentials, { auth_value: '***' });
        const id = made.json.server_id;
        const client = await connectClient(gw.mcpUrl(`/mcp/${name}`));
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: {} })), '{}');
        await client.close();
        const sent = upstream.requests.find((r) => r.body.includes('tools/call'))!;
        assert.equal(sent.headers.authorization, `Bearer ${authValue}`, 'the credential is used on the wire');
        assert.equal(sent.headers['x-upstream-key'], headerValue);
        assert.ok(sent.path.endsWith(`?api_key=${queryValue}`), 'the URL query is used on the wire');

        const stdio = await call('POST', '/v1/mcp/server', {
          server_name: 'env_' + uid(),
          transport: 'stdio',
          command: 'node',
          args: [EVERYTHING_JS, 'stdio', '--token', argValue, `--key=${argValue}`],
          env: { UPSTREAM_TOKEN: envValue },
        });
        assert.equal(stdio.status, 201, stdio.text);
        assert.deepEqual(stdio.json.env, { UPSTREAM_TOKEN: '***' });
        assert.deepEqual(stdio.json.args, ['***', '***', '--token', '***', '--key=***']);
        const stdioClient = await connectClient(gw.mcpUrl(`/mcp/${stdio.json.server_name}`));
        assert.ok((await stdioClient.listTools()).tools.length > 0, 'the stdio server starts with its args');
        await stdioClient.close();
        assert.equal((await call('PUT', '/v1/mcp/server', { server_id: id, credentials: { auth_value: newValue } })).status, 202);
        const again = await connectClient(gw.mcpUrl(`/mcp/${name}`));
        await again.callTool({ name: 'echo', arguments: {} });
        await again.close();
        assert.equal(upstream.requests.at(-1)!.headers.authorization, `Bearer ${newValue}`, 'the changed credential is used');
        // What GET shows, sent back unchanged, keeps the secrets it shows as ***.
        const shown = await call('GET', `/v1/mcp/server/${id}`);
        assert.deepEqual([shown.json.credentials, shown.json.static_headers], [{ auth_value: '***' }, { 'x-upstream-key': '***' }]);
        assert.equal((await call('PUT', '/v1/mcp/server', shown.json)).status, 202);
        const third = await connectClient(gw.mcpUrl(`/mcp/${name}`));
        await third.callTool({ name: 'echo', arguments: {} });
        await third.close();
        const last = upstream.requests.at(-1)!.headers;
        assert.deepEqual([last.authorization, last['x-upstream-key']], [`Bearer ${newValue}`, headerValue]);
        const bad = await call('PUT', '/v1/mcp/server', { server_id: id, credentials: { auth_value: `${newValue}\n` } });
        assert.equal(bad.json.error.param, 'credentials.auth_value');
        await call('GET', '/v1/mcp/server');
        await call('GET', `/v1/mcp/server/${id}`);
        await call('GET', '/v1/mcp/tools');
        const audit = await call('GET', '/audit?object_type=server&limit=1000');
        assert.ok(audit.json.entries.length >= 3);
        const madeAudit = audit.json.entries.find((e: any) => e.action === 'mcp_server.new' && e.object_id === id);
        assert.equal(madeAudit.after.url, `${upstream.url}?api_key=***`, 'the audit row keeps the query names, not values');
        const stdioMade = audit.json.entries.find((e: any) => e.action === 'mcp_server.new' && e.object_id === stdio.json.server_id);
        assert.deepEqual(stdioMade.after.args, ['***', '***', '--token', '***', '--key=***']);
        await call('DELETE', `/v1/mcp/server/${stdio.json.server_id}`);

        const rows = await (engine.name === 'postgres'
          ? adminQuery(`SELECT t::text AS row FROM ${run.where}.toolgate_mcp_servers t`).then((r) => r.rows)
          : store.query<{ row: string }>('SELECT t::text AS row FROM toolgate_mcp_servers t'));
        assert.match(rows.map((r) => r.row).join('\n'), /tgs1:/, 'sealed values are stored');
        const dump = [
          ...rows.map((r) => r.row),
          ...(await store.query<{ row: string }>('SELECT t::text AS row FROM toolgate_audit t')).map((r) => r.row),
        ].join('\n');
        const texts = { responses: responses.map((r) => r.text).join('\n'), logs: gw.logs.join(''), store: dump };
        for (const canary of canaries)
          for (const [where, text] of Object.entries(texts)) assert.ok(!text.includes(canary), `${canary} in ${where}`);
      } finally {
        await gw.close();
        await upstream.stop();
        await store.close();
      }
      if (engine.name === 'embedded') {
        const files = await rawFiles(run.where);
        assert.ok(files.length > 0);
        for (const canary of canaries) assert.ok(!files.some((f) => f.includes(canary)), `${canary} in the embedded store's files`);
      } else {
        const all = await adminQuery(
          `SELECT string_agg(t::text, E'\\n') AS dump FROM (SELECT row_to_json(r)::text AS t FROM ${run.where}.toolgate_mcp_servers r UNION ALL SELECT row_to_json(a)::text FROM ${run.where}.toolgate_audit a) x`,
        );
        for (const canary of canaries) assert.ok(!String(all.rows[0].dump).includes(canary), `${canary} in PostgreSQL`);
      }
      await run.cleanup();
    });
  });
}
