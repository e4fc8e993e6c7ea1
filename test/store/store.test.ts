import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RESYNC_KIND, type Store, type StoreChange } from '../../src/store/types.js';
import { ENGINES, type EngineRun } from './engines.js';

const MIGRATIONS = [
  {
    version: 1,
    name: 'widgets',
    sql: 'CREATE TABLE widgets (id text PRIMARY KEY, n int8 NOT NULL, meta jsonb, at timestamptz DEFAULT now())',
  },
];

for (const { name, run: makeRun } of ENGINES) {
  describe(`store (${name})`, () => {
    let run: EngineRun;
    let store: Store;
    before(async () => {
      run = await makeRun();
      store = await run.open({ migrations: MIGRATIONS });
    });
    after(async () => {
      await store?.close();
      await run?.cleanup();
    });

    it('reports its engine and runs parameterised SQL with the same JS shapes on both engines', async () => {
      assert.equal(store.engine, name);
      await store.query('INSERT INTO widgets (id, n, meta) VALUES ($1, $2, $3)', ['a', 42, { tags: ['x'] }]);
      const rows = await store.query<{ id: string; n: number; meta: unknown; at: Date; c: number }>(
        'SELECT id, n, meta, at, count(*) OVER () AS c FROM widgets WHERE id = $1',
        ['a'],
      );
      assert.equal(rows.length, 1);
      assert.deepEqual(
        { id: rows[0]!.id, n: rows[0]!.n, meta: rows[0]!.meta, c: rows[0]!.c },
        { id: 'a', n: 42, meta: { tags: ['x'] }, c: 1 },
      );
      assert.ok(rows[0]!.at instanceof Date);
    });

    it('commits a transaction whole, and rolls it back whole when it throws', async () => {
      const out = await store.transaction(async (tx) => {
        await tx.query('INSERT INTO widgets (id, n) VALUES ($1, $2)', ['t1', 1]);
        await tx.query('INSERT INTO widgets (id, n) VALUES ($1, $2)', ['t2', 2]);
        return 'done';
      });
      assert.equal(out, 'done');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO widgets (id, n) VALUES ($1, $2)', ['t3', 3]);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO widgets (id, n) VALUES ($1, $2)', ['t4', 4]);
          await tx.query('INSERT INTO widgets (id, n) VALUES ($1, $2)', ['t1', 5]); // duplicate key
        }),
        /duplicate key/,
      );
      const ids = (await store.query<{ id: string }>("SELECT id FROM widgets WHERE id LIKE 't%' ORDER BY id")).map((r) => r.id);
      assert.deepEqual(ids, ['t1', 't2']);
      // The store stays usable after failed transactions.
      assert.equal((await store.query<{ n: number }>('SELECT count(*) AS n FROM widgets'))[0]!.n, 3);
    });

    it('publish reaches in-process listeners at once; unsubscribe stops them; a throwing listener harms no one', async () => {
      const heard: StoreChange[] = [];
      const off = store.onChange((c) => heard.push(c));
      const offBad = store.onChange(() => {
        throw new Error('listener bug');
      });
      const pending = store.publish({ kind: 'widget', id: 'a' });
      assert.deepEqual(heard, [{ kind: 'widget', id: 'a' }], 'heard before publish resolves');
      await pending;
      off();
      offBad();
      await store.publish({ kind: 'widget', id: 'b' });
      assert.equal(heard.length, 1);
      assert.notEqual(RESYNC_KIND, 'widget');
    });
  });
}
