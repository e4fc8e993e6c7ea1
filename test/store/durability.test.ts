import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ENGINES } from './engines.js';
import { WRITER_MIGRATIONS } from './fixtures/writer-schema.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITER = join(ROOT, 'test/store/fixtures/store-writer.ts');
/** Enough acknowledged writes that the kill lands in the middle of steady writing, well past start. */
const ACKS_BEFORE_KILL = 300;

for (const { name, run: makeRun } of ENGINES) {
  describe(`durability (${name})`, () => {
    it('kill -9 while writing: the store opens again and every acknowledged write is there, transactions whole', async () => {
      const run = await makeRun();
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify(run.options())], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
        let acked = 0;
        let buffered = '';
        const exited = once(child, 'exit');
        await new Promise<void>((resolve, reject) => {
          child.stdout!.setEncoding('utf8');
          child.stdout!.on('data', (d: string) => {
            buffered += d;
            const lines = buffered.split('\n');
            buffered = lines.pop()!;
            for (const line of lines) {
              const m = /^ack (\d+)$/.exec(line);
              if (m) acked = Number(m[1]);
            }
            if (acked >= ACKS_BEFORE_KILL) {
              // SIGKILL: no handler runs, no close, no checkpoint; PostgreSQL must recover from its WAL.
              child.kill('SIGKILL');
              resolve();
            }
          });
          child.once('exit', (code, signal) => reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`)));
        });
        const [, signal] = await exited;
        assert.equal(signal, 'SIGKILL');

        const store = await run.open({ migrations: WRITER_MIGRATIONS });
        try {
          const writes = (await store.query<{ n: number }>('SELECT n FROM writes ORDER BY n')).map((r) => r.n);
          const pairs = new Set((await store.query<{ n: number }>('SELECT n FROM pairs')).map((r) => r.n));
          assert.ok(writes.length >= acked, `${writes.length} rows for ${acked} acknowledged writes`);
          // Every acknowledged write is there; at most the one in flight at the kill is beyond them.
          assert.deepEqual(
            writes.slice(0, acked),
            Array.from({ length: acked }, (_, i) => i + 1),
          );
          assert.ok(writes.length <= acked + 1, `no write beyond the one in flight: ${writes.length} rows, ${acked} acked`);
          for (const n of writes) assert.equal(pairs.has(n), n % 2 === 0, `transaction ${n} is whole`);
          // And it keeps working after recovery.
          await store.query('INSERT INTO writes (n, body) VALUES ($1, $2)', [1_000_000, 'after']);
        } finally {
          await store.close();
        }
      } finally {
        await run.cleanup();
      }
    });
  });
}
