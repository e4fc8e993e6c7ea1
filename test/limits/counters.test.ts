import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { uid } from '../admin/api.js';
import { until } from '../helpers/within.js';
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

describe('redis: the window slides by the second, reading only what changed', () => {
  const r = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
  after(() => r.disconnect());
  /** The counter's Redis key (RedisCounters hashes the id behind the prefix). */
  const keyOf = (id: string) => prefix + 'rl:' + createHash('sha256').update(id).digest('base64url').slice(0, 32);
  const open = async () => {
    const c = new RedisCounters({
      target: { url: 'redis://127.0.0.1:6379' },
      log: silentLogger,
      timeoutMs: 1000,
      failClosed: true,
      prefix,
    });
    opened.push(c);
    await c.connected();
    return c;
  };
  const redisSecond = async () => Number((await r.time())[0]);

  it('buckets that left the window since the last check stop counting, and are dropped', async () => {
    const c = await open();
    const id = uid();
    const sec = await redisSecond();
    // As a check 75 s ago left it: a bucket now 70 s old (out of the window), one 30 s old (in it).
    await r.hset(keyOf(id), { [sec - 70]: 5, [sec - 30]: 1, '-1': 6, '-2': sec - 75 });
    await r.pexpire(keyOf(id), 61_000);
    assert.equal((await c.acquire([rate(id, 2)])).ok, true, 'the old bucket no longer counts');
    const r2 = refused(await c.acquire([rate(id, 2)]));
    assert.equal(r2.current, 3);
    // The 30 s old bucket frees the slot first: about 30 s from now.
    assert.ok(r2.retryAfterMs > 27_000 && r2.retryAfterMs <= 31_000, String(r2.retryAfterMs));
    const h = await r.hgetall(keyOf(id));
    assert.equal(h[String(sec - 70)], undefined, 'the stale bucket is deleted');
    assert.equal(h['-1'], '2');
  });

  it('a hash of buckets alone (as an earlier version wrote it) is summed in full once', async () => {
    const c = await open();
    const id = uid();
    const sec = await redisSecond();
    await r.hset(keyOf(id), { [sec - 100]: 7, [sec - 20]: 2 });
    await r.pexpire(keyOf(id), 61_000);
    assert.equal((await c.acquire([rate(id, 3)])).ok, true);
    assert.equal(refused(await c.acquire([rate(id, 3)])).current, 4);
    assert.equal((await r.hgetall(keyOf(id)))[String(sec - 100)], undefined);
  });

  it('a counter whose only call was refused by another leaves no key behind', async () => {
    const c = await open();
    const id = uid();
    refused(await c.acquire([rate(id, 5), rate(`${id}b`, 0)]));
    assert.equal(await r.exists(keyOf(id)), 0);
    assert.equal((await c.acquire([rate(id, 5)])).ok, true);
    assert.ok((await r.pttl(keyOf(id))) > 0, 'a taken counter expires');
  });

  it('a burst of 9,000 releases on one counter, with another counter beside it, frees every slot in one flush', async () => {
    const c = await open();
    const id = uid();
    const held: Admission[] = [];
    for (let i = 0; i < 9_000; i++) held.push(await c.acquire([parallel(id, 10_000), parallel(`${id}b`, 10_000)]));
    assert.equal(await r.zcard(keyOf(id)), 9_000);
    // All in one turn: one release command carries them all (Lua unpacks a few thousand values at most).
    for (const h of held) if (h.ok) h.release();
    await until(async () => (await r.zcard(keyOf(id))) + (await r.zcard(keyOf(`${id}b`))) === 0, 'every slot released');
  });

  it("a release, sent after the current I/O, still reaches Redis ahead of the same replica's next acquire", async () => {
    const c = await open();
    const id = uid();
    const held = await c.acquire([parallel(id, 1)]);
    assert.ok(held.ok);
    held.release();
    // No turn of the event loop in between: the next acquire sends the release first, so the slot is free for it.
    const next = await c.acquire([parallel(id, 1)]);
    assert.ok(next.ok);
    next.release();
    await until(async () => (await r.zcard(keyOf(id))) === 0, 'the release on Redis');
  });
});
