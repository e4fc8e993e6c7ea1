import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StoreError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import { RESYNC_KIND, type Store, type StoreChange } from '../../src/store/types.js';
import { within } from '../helpers/within.js';
import { adminQuery, postgresRun, TEST_DATABASE_URL, type EngineRun } from './engines.js';

/** Resolves with the first change the store hears that matches. */
function heard(store: Store, match: (c: StoreChange) => boolean): Promise<StoreChange> {
  return new Promise((resolve) => {
    const off = store.onChange((c) => {
      if (!match(c)) return;
      off();
      resolve(c);
    });
  });
}

describe('the store on PostgreSQL', () => {
  let run: EngineRun;
  let other: EngineRun;
  let a: Store;
  let b: Store;
  let elsewhere: Store;
  before(async () => {
    run = await postgresRun();
    other = await postgresRun();
    [a, b, elsewhere] = await Promise.all([run.open(), run.open(), other.open()]);
  });
  after(async () => {
    await Promise.all([a, b, elsewhere].map((s) => s?.close()));
    await Promise.all([run, other].map((r) => r?.cleanup()));
  });

  it('a change published on one store is heard by another on the same database, once, and not by another schema', async () => {
    const onA: StoreChange[] = [];
    const onB: StoreChange[] = [];
    const offA = a.onChange((c) => onA.push(c));
    const offB = b.onChange((c) => onB.push(c));
    try {
      await elsewhere.publish({ kind: 'key', id: 'from-another-schema' });
      const marker = heard(b, (c) => c.id === 'k1');
      await a.publish({ kind: 'key', id: 'k1' });
      assert.deepEqual(onA, [{ kind: 'key', id: 'k1' }], 'the publisher hears it at once, and only once');
      assert.deepEqual(await within(marker, 'the other replica hearing the change', 5000), { kind: 'key', id: 'k1' });
      // NOTIFYs are delivered in commit order, so the other schema's change would have arrived first.
      assert.deepEqual(onB, [{ kind: 'key', id: 'k1' }]);
    } finally {
      offA();
      offB();
    }
  });

  it('both stores see one set of rows, and transactions are isolated until they commit', async () => {
    await a.query('CREATE TABLE IF NOT EXISTS shared (id text PRIMARY KEY)');
    let release!: () => void;
    const holding = new Promise<void>((r) => (release = r));
    let inside!: () => void;
    const started = new Promise<void>((r) => (inside = r));
    const tx = a.transaction(async (t) => {
      await t.query("INSERT INTO shared VALUES ('pending')");
      inside();
      await holding;
    });
    await started;
    assert.deepEqual(await b.query('SELECT id FROM shared'), [], 'uncommitted rows are invisible to the other store');
    release();
    await tx;
    assert.deepEqual(await b.query('SELECT id FROM shared'), [{ id: 'pending' }]);
  });

  it('when the LISTEN connection is cut, it reconnects, reports a resync, and hears changes again', async () => {
    const resynced = heard(b, (c) => c.kind === RESYNC_KIND);
    const cut = await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `toolgate listen ${run.where}`,
    ]);
    assert.ok(cut.rowCount! >= 1, 'the listening connections were found');
    await within(resynced, 'the resync after reconnecting', 10_000);
    const again = heard(b, (c) => c.id === 'after-reconnect');
    await a.publish({ kind: 'key', id: 'after-reconnect' });
    await within(again, 'a change after the reconnect', 5000);
  });

  it('a pooled connection killed under it is replaced: the next query works', async () => {
    const cut = await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `toolgate ${run.where}`,
    ]);
    assert.ok(cut.rowCount! >= 1, 'pooled connections were found');
    // The first query may meet the dead connection; pg drops it and the pool makes a new one.
    let rows: unknown[] | undefined;
    for (let i = 0; i < 3 && !rows; i++) rows = await b.query('SELECT 1 AS one').catch(() => undefined);
    assert.deepEqual(rows, [{ one: 1 }]);
  });

  it('a bad DATABASE_URL or schema is refused with the fix, never the password', async () => {
    await assert.rejects(openStore({ databaseUrl: 'mysql://u:pw@127.0.0.1/db' }), /must start with postgresql:\/\//);
    await assert.rejects(openStore({ databaseUrl: `${TEST_DATABASE_URL}?schema=bad;drop` }), (err: Error) => {
      assert.ok(err instanceof StoreError);
      assert.match(err.message, /schema "bad;drop" in DATABASE_URL is not a plain name/);
      return true;
    });
    await assert.rejects(openStore({ databaseUrl: 'postgresql://u:tg-canary-pw-9d1e@127.0.0.1:9/db' }), (err: Error) => {
      assert.ok(!err.message.includes('tg-canary-pw-9d1e'), err.message);
      assert.match(err.message, /postgresql:\/\/u:\*\*\*@127\.0\.0\.1:9\/db/);
      return true;
    });
  });

  it('?schema= in DATABASE_URL selects the schema (Prisma spelling, as LiteLLM users write it)', async () => {
    const store = await openStore({ databaseUrl: `${TEST_DATABASE_URL}?schema=${run.where}` });
    try {
      assert.deepEqual(await store.query('SELECT current_schema() AS s'), [{ s: run.where }]);
    } finally {
      await store.close();
    }
  });
});
