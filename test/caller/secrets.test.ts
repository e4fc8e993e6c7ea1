import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { processStoreDir, rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { adminQuery, postgresRun, type EngineRun } from '../store/engines.js';
import { ADMIN_CONFIG, api } from '../admin/api.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every byte the embedded store wrote, as one latin1 string (so any ASCII secret is findable). */
function embeddedBytes(dir: string): string {
  return filesUnder(dir)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');
}

/** A text dump of every row of every table in the schema. */
async function postgresDump(schema: string): Promise<string> {
  const tables = await adminQuery(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
  const parts: string[] = [];
  for (const t of tables.rows) parts.push(JSON.stringify((await adminQuery(`SELECT * FROM ${schema}.${t.table_name}`)).rows));
  return parts.join('\n');
}

/** Generates, uses, reads back, regenerates and blocks keys: every path a key's plaintext could leak through. */
async function exercise(gw: TestGateway): Promise<{ plaintexts: string[]; tokens: string[]; responses: string[] }> {
  const g = await api(gw, 'POST', '/key/generate', { key_alias: 'canary', metadata: { note: 'canary' } });
  const u = await api(gw, 'POST', '/user/new', { user_id: 'canary-user' });
  await rawPost(gw.mcpUrl('/mcp/alpha'), '{}', { authorization: `Bearer ${g.json.key}` });
  const r = await api(gw, 'POST', `/key/${g.json.token}/regenerate`, {});
  await rawPost(gw.mcpUrl('/mcp/alpha'), '{}', { authorization: `Bearer ${g.json.key}` }); // the old one: refused
  await api(gw, 'POST', '/key/block', { key: r.json.key });
  const responses = [
    await api(gw, 'GET', '/key/list?return_full_object=true'),
    await api(gw, 'GET', `/key/info?key=${r.json.token}`),
    await api(gw, 'GET', '/user/info?user_id=canary-user'),
    await api(gw, 'GET', '/audit?limit=1000'),
  ].map((x) => x.text);
  return { plaintexts: [g.json.key, r.json.key, u.json.key], tokens: [r.json.token], responses };
}

function assertAbsent(haystack: string, plaintexts: string[], where: string): void {
  for (const p of plaintexts) {
    assert.ok(!haystack.includes(p), `a key's plaintext appears in ${where}`);
    assert.ok(!haystack.includes(p.slice(3)), `a key's random part appears in ${where}`);
  }
}

describe('a generated key never appears outside the response that created it', () => {
  test('embedded store: logs, responses, audit rows and the data directory', async () => {
    const gw = await startTestGateway(ADMIN_CONFIG);
    try {
      const { plaintexts, tokens, responses } = await exercise(gw);
      const dir = processStoreDir();
      assert.ok(dir);
      const bytes = embeddedBytes(dir);
      assert.ok(bytes.includes(tokens[0]), 'the grep sees what the store wrote (the token is there)');
      assertAbsent(bytes, plaintexts, 'the embedded data directory');
      assertAbsent(gw.logs.join('\n'), plaintexts, 'the logs');
      for (const r of responses) assertAbsent(r, plaintexts, 'a list/info/audit response');
    } finally {
      await gw.close();
    }
  });

  describe('PostgreSQL', () => {
    let run: EngineRun;
    let gw: TestGateway;
    before(async () => {
      run = await postgresRun();
      gw = await startTestGateway(ADMIN_CONFIG, {}, 0, { store: await run.open() });
    });
    after(async () => {
      await gw.close();
      await gw.store.close();
      await run.cleanup();
    });

    test('logs, responses, audit rows and a dump of every table', async () => {
      const { plaintexts, tokens, responses } = await exercise(gw);
      const dump = await postgresDump(run.where);
      assert.ok(dump.includes(tokens[0]));
      assertAbsent(dump, plaintexts, 'the PostgreSQL tables');
      assertAbsent(gw.logs.join('\n'), plaintexts, 'the logs');
      for (const r of responses) assertAbsent(r, plaintexts, 'a list/info/audit response');
    });
  });
});
