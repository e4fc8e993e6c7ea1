import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { uid } from '../admin/api.js';
import { silentLogger } from '../../src/observe/log.js';
import type { Admission, Counters, CounterSpec } from '../../src/policy/limits/counters.js';
import { MemoryCounters } from '../../src/policy/limits/memory-counters.js';
import { RedisCounters } from '../../src/policy/limits/redis-counters.js';

const rate = (id: string, limit: number): CounterSpec => ({ id, kind: 'rate', limit });
const parallel = (id: string, limit: number): CounterSpec => ({ id, kind: 'parallel', limit });

function refused(a: Admission): { index: number; current: number; retryAfterMs: number } {
  assert.equal(a.ok, false, 'expected a refusal');
  return a as never;
}

/** What both backends must agree on: one check-and-take for all counters of a call. */
function sharedSemantics(name: string, make: () => Counters | Promise<Counters>) {
  describe(`${name}: one atomic acquire for every counter of a call`, () => {
    it('all or nothing: a call refused by one counter takes no slot in the others', async () => {
      const c = await make();
      const id = uid();
      const r = refused(await c.acquire([rate(`a${id}`, 5), parallel(`p${id}`, 5), rate(`b${id}`, 0)]));
      assert.deepEqual([r.index, r.current], [2, 1]);
      // Had the refused call taken a's slot, a limit of 1 would now be full.
      assert.equal((await c.acquire([rate(`a${id}`, 1)])).ok, true);
      assert.equal((await c.acquire([parallel(`p${id}`, 1)])).ok, true);
    });

    it('counts up to the limit, then refuses naming the count with this attempt; parallel slots come back on release', async () => {
      const c = await make();
      const id = uid();
      for (let i = 0; i < 3; i++) assert.equal((await c.acquire([rate(id, 3)])).ok, true);
      const r = refused(await c.acquire([rate(id, 3)]));
      assert.equal(r.current, 4);
      assert.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 60_000, String(r.retryAfterMs));
      const held = await c.acquire([parallel(`p${id}`, 2)]);
      assert.equal((await c.acquire([parallel(`p${id}`, 2)])).ok, true);
      assert.equal(refused(await c.acquire([parallel(`p${id}`, 2)])).current, 3);
      assert.ok(held.ok);
      held.release();
      held.release(); // twice is once
      const again = await c.acquire([parallel(`p${id}`, 2)]);
      assert.equal(again.ok, true);
      assert.equal((await c.acquire([parallel(`p${id}`, 2)])).ok, false);
    });
  });
}

sharedSemantics('memory', () => new MemoryCounters());

const prefix = `toolgate:test-counters-${uid()}:`;
const opened: RedisCounters[] = [];
// Fail closed: a test that fell back to local counters would fail instead of passing on the wrong backend.
sharedSemantics('redis', async () => {
  const c = new RedisCounters({ target: { url: 'redis://127.0.0.1:6379' }, log: silentLogger, timeoutMs: 1000, failClosed: true, prefix });
  opened.push(c);
  await c.connected();
  return c;
});
after(
  async () => {
    for (const c of opened) await c.close();
    const r = new Redis('redis://127.0.0.1:6379');
    const keys = await r.keys(prefix + '*');
    if (keys.length) await r.del(...keys);
    r.disconnect();
  },
  { timeout: 30_000 },
);

describe('memory: the window slides by the second', () => {
  it('a call leaves the count 60 s after its second began, and Retry-After says when', () => {
    let now = 1_000_000_500;
    const c = new MemoryCounters(() => now);
    assert.equal(c.acquire([rate('w', 2)]).ok, true);
    now += 30_000;
    assert.equal(c.acquire([rate('w', 2)]).ok, true);
    now += 500;
    const r = refused(c.acquire([rate('w', 2)]));
    // The first call's bucket (second 1_000_000) leaves at 1_000_060_000.
    assert.equal(r.retryAfterMs, 1_000_060_000 - now);
    now = 1_000_060_000;
    assert.equal(c.acquire([rate('w', 2)]).ok, true);
    assert.equal(c.acquire([rate('w', 2)]).ok, false);
  });
});
