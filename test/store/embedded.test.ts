import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { StoreError } from '../../src/store/errors.js';
import { dataDirFor } from '../../src/store/open.js';
import { embeddedRun } from './engines.js';

describe('the embedded store', () => {
  it('belongs to one opener: a second open of the same data directory fails clearly until the first closes', async () => {
    const run = await embeddedRun();
    try {
      const first = await run.open();
      await assert.rejects(run.open(), (err: Error) => {
        assert.ok(err instanceof StoreError);
        assert.match(
          err.message,
          new RegExp(`the data directory ${run.where} is in use by another Toolgate \\(process ${process.pid}, this one\\)`),
        );
        assert.match(err.message, /toolgate_settings\.data_dir/);
        return true;
      });
      await first.query('CREATE TABLE kept (v text)');
      await first.query("INSERT INTO kept VALUES ('still here')");
      await first.close();
      const again = await run.open();
      try {
        assert.deepEqual(await again.query('SELECT v FROM kept'), [{ v: 'still here' }], 'the failed open harmed nothing');
      } finally {
        await again.close();
      }
    } finally {
      await run.cleanup();
    }
  });

  it('takes over a lock left by a process that is gone (a crash), not one held by a live process', async () => {
    const run = await embeddedRun();
    try {
      // pid 2^22+1 is above Linux's default pid_max, so no such process exists.
      writeFileSync(join(run.where, 'toolgate.lock'), JSON.stringify({ pid: 4194305, since: 'earlier' }));
      const store = await run.open();
      await store.close();
      writeFileSync(join(run.where, 'toolgate.lock'), JSON.stringify({ pid: process.ppid, since: 'now' }));
      await assert.rejects(run.open(), new RegExp(`in use by another Toolgate \\(process ${process.ppid}\\)`));
    } finally {
      await run.cleanup();
    }
  });

  it('an unusable data_dir is refused with the directory and the setting to change', async () => {
    const run = await embeddedRun();
    try {
      const file = join(run.where, 'a-file');
      writeFileSync(file, 'not a directory');
      await assert.rejects(
        run.open({ dataDir: join(file, 'store') }),
        /cannot create the data directory .*a-file\/store .*toolgate_settings\.data_dir/,
      );
    } finally {
      await run.cleanup();
    }
  });

  it('data_dir is read from toolgate_settings, relative to the config file, defaulting to .toolgate/ beside it', () => {
    const withDir = parseConfig('toolgate_settings:\n  data_dir: state/db\n', '/etc/toolgate/config.yaml', {});
    assert.equal(withDir.settings.dataDir, 'state/db');
    assert.equal(dataDirFor(withDir.settings.dataDir, withDir.file), '/etc/toolgate/state/db');
    assert.equal(dataDirFor('/var/lib/toolgate', withDir.file), '/var/lib/toolgate');
    const plain = parseConfig('mcp_servers: {}\n', '/etc/toolgate/config.yaml', {});
    assert.equal(plain.settings.dataDir, undefined);
    assert.equal(dataDirFor(plain.settings.dataDir, plain.file), '/etc/toolgate/.toolgate');
  });

  it('DATABASE_URL comes from the environment or environment_variables (the environment wins), as in LiteLLM', () => {
    const fromEnv = parseConfig('mcp_servers: {}\n', 'c.yaml', { DATABASE_URL: 'postgresql://a@h/db' });
    assert.equal(fromEnv.settings.databaseUrl, 'postgresql://a@h/db');
    const fromFile = parseConfig('environment_variables:\n  DATABASE_URL: postgresql://b@h/db\n', 'c.yaml', {});
    assert.equal(fromFile.settings.databaseUrl, 'postgresql://b@h/db');
    const both = parseConfig('environment_variables:\n  DATABASE_URL: postgresql://b@h/db\n', 'c.yaml', {
      DATABASE_URL: 'postgresql://a@h/db',
    });
    assert.equal(both.settings.databaseUrl, 'postgresql://a@h/db');
  });
});
