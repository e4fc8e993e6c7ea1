import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StoreError } from '../../src/store/errors.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import type { Migration } from '../../src/store/migrations/migration.js';
import { ENGINES, postgresRun, type EngineRun } from './engines.js';

const V1: Migration = {
  version: 1,
  name: 'things',
  sql: 'CREATE TABLE things (id text PRIMARY KEY); CREATE INDEX things_id ON things (id)',
};
const V2: Migration = { version: 2, name: 'thing-notes', sql: 'ALTER TABLE things ADD COLUMN note text' };
const BROKEN: Migration = {
  version: 3,
  name: 'broken',
  sql: 'ALTER TABLE things ADD COLUMN size int; ALTER TABLE nowhere ADD COLUMN x int',
};

async function recorded(run: EngineRun, migrations: Migration[]): Promise<Array<{ version: number; name: string }>> {
  const store = await run.open({ migrations });
  try {
    return await store.query('SELECT version, name FROM toolgate_schema_migrations ORDER BY version');
  } finally {
    await store.close();
  }
}

describe('the shipped migration list', () => {
  it('has ascending whole versions and unique names', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.equal(new Set(versions).size, versions.length);
    assert.ok(versions.every((v) => Number.isInteger(v) && v > 0));
    assert.equal(new Set(MIGRATIONS.map((m) => m.name)).size, MIGRATIONS.length);
  });
});

for (const { name, run: makeRun } of ENGINES) {
  describe(`migrations (${name})`, () => {
    const runs: EngineRun[] = [];
    after(() => Promise.all(runs.map((r) => r.cleanup())));
    const fresh = async () => {
      const r = await makeRun();
      runs.push(r);
      return r;
    };

    it('apply in order, once each, recorded; a later start with more migrations applies only the new ones', async () => {
      const run = await fresh();
      assert.deepEqual(await recorded(run, [V1]), [{ version: 1, name: 'things' }]);
      assert.deepEqual(await recorded(run, [V1]), [{ version: 1, name: 'things' }], 'idempotent');
      assert.deepEqual(await recorded(run, [V1, V2]), [
        { version: 1, name: 'things' },
        { version: 2, name: 'thing-notes' },
      ]);
      const store = await run.open({ migrations: [V1, V2] });
      try {
        await store.query('INSERT INTO things (id, note) VALUES ($1, $2)', ['x', 'kept']);
        assert.deepEqual(await store.query('SELECT id, note FROM things'), [{ id: 'x', note: 'kept' }]);
      } finally {
        await store.close();
      }
    });

    it('a failing migration rolls back whole, is not recorded, and the store does not open', async () => {
      const run = await fresh();
      await recorded(run, [V1, V2]);
      await assert.rejects(run.open({ migrations: [V1, V2, BROKEN] }), /nowhere/);
      const store = await run.open({ migrations: [V1, V2] });
      try {
        const columns = await store.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_name = 'things' AND table_schema = current_schema() ORDER BY column_name",
        );
        assert.deepEqual(
          columns.map((c) => c.column_name),
          ['id', 'note'],
          'size was rolled back with the failing statement',
        );
        assert.equal((await store.query('SELECT 1 FROM toolgate_schema_migrations WHERE version = 3')).length, 0);
      } finally {
        await store.close();
      }
    });

    it('a schema newer than this build refuses to start, saying the versions and what to do', async () => {
      const run = await fresh();
      await recorded(run, [V1, V2]);
      await assert.rejects(run.open({ migrations: [V1] }), (err: Error) => {
        assert.ok(err instanceof StoreError, String(err));
        assert.match(err.message, /schema version 2 \("thing-notes"\), newer than this Toolgate \S+ knows \(version 1\)/);
        assert.match(err.message, /upgrade/);
        assert.match(err.message, /backup/);
        return true;
      });
      // Nothing was changed by the refusal: the newer build still opens it.
      assert.equal((await recorded(run, [V1, V2])).length, 2);
    });

    it('a recorded migration whose name differs from this build is refused', async () => {
      const run = await fresh();
      await recorded(run, [V1]);
      await assert.rejects(
        run.open({ migrations: [{ ...V1, name: 'other-things' }] }),
        /recorded migration 1 as "things", but this build's migration 1 is "other-things"/,
      );
    });

    it('a list out of order is a programming error named at start', async () => {
      const run = await fresh();
      await assert.rejects(run.open({ migrations: [V2, V1] }), /ascending/);
    });
  });
}

describe('migrations on one PostgreSQL from replicas starting together', () => {
  it('apply once: the advisory lock serialises them and every start succeeds', async () => {
    const run = await postgresRun();
    try {
      // Each migration counts its own runs; a double apply would also fail on CREATE TABLE.
      const counting: Migration[] = [
        { version: 1, name: 'runs', sql: 'CREATE TABLE runs (version int); INSERT INTO runs VALUES (1)' },
        { version: 2, name: 'runs-again', sql: 'INSERT INTO runs VALUES (2)' },
      ];
      const stores = await Promise.all(Array.from({ length: 4 }, () => run.open({ migrations: counting })));
      try {
        assert.deepEqual(await stores[0]!.query('SELECT version FROM runs ORDER BY version'), [{ version: 1 }, { version: 2 }]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    } finally {
      await run.cleanup();
    }
  });
});
