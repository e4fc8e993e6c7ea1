import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sealer, TokenKeys } from '../../src/mcp/sealed.js';
import { StateTokens } from '../../src/mcp/state-token.js';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('sealed-token codec', () => {
  const keys = new TokenKeys('state-secret-for-tests');

  for (const framing of ['dotted', 'compact'] as const) {
    describe(`${framing} framing`, () => {
      const make = (k: TokenKeys | string = keys, purpose = 'p', now?: () => number) =>
        new Sealer(k, purpose, { framing, prefix: 'tgx', maxTtlMs: 60_000, now });

      it('opens what it sealed, with the same binding, on any replica with the same secret', () => {
        const token = make().seal({ a: 1, s: 'x' }, { ttlMs: 60_000, bind: { k: 'key-1', m: 'tools/call' } });
        const opened = make('state-secret-for-tests').open(token, { k: 'key-1', m: 'tools/call' });
        assert.ok(opened.ok);
        assert.equal(opened.payload.a, 1);
        assert.equal(opened.payload.s, 'x');
      });

      it('refuses a token bound to another key, method or scope (re-bound), naming why', () => {
        const token = make().seal({}, { ttlMs: 60_000, bind: { k: 'key-1' } });
        assert.deepEqual(make().open(token, { k: 'key-2' }), { ok: false, reason: 'bound' });
        assert.deepEqual(make().open(token, { other: 'x' }), { ok: false, reason: 'bound' });
      });

      it('refuses another secret, another purpose and every single-character change as tampered or malformed', () => {
        const token = make().seal({ v: 'abc' }, { ttlMs: 60_000 });
        assert.deepEqual(make(new TokenKeys('another-secret')).open(token), { ok: false, reason: 'tampered' });
        assert.deepEqual(make(keys, 'other-purpose').open(token), { ok: false, reason: 'tampered' });
        for (let i = 0; i < token.length; i++) {
          for (const ch of ['A', 'B', '_']) {
            if (token[i] === ch) continue;
            const forged = token.slice(0, i) + ch + token.slice(i + 1);
            assert.equal(make().open(forged).ok, false, `change at ${i} accepted`);
          }
        }
      });

      it('expires, and refuses a token that claims to live longer than any it issues', () => {
        const t = clock();
        const sealer = make(keys, 'p', t.now);
        const token = sealer.seal({}, { ttlMs: 1_000 });
        t.advance(999);
        assert.ok(sealer.open(token).ok);
        t.advance(2);
        assert.deepEqual(sealer.open(token), { ok: false, reason: 'expired' });
        assert.deepEqual(sealer.open(sealer.seal({}, { ttlMs: 10 * 60_000 })), { ok: false, reason: 'expired' });
      });

      it('refuses garbage as malformed', () => {
        for (const bad of ['', 'x', '...', 'tgx.a.b.c', 42, undefined, 'A'.repeat(70_000)]) {
          assert.equal(make().open(bad).ok, false, String(bad).slice(0, 20));
        }
      });
    });
  }

  it('detached tags bind readable content: another part or key does not verify', () => {
    const sealer = new Sealer(keys, 'task-id', { framing: 'compact' });
    const tag = sealer.tag(['key-a', 'srv', 'task-1']);
    assert.match(tag, /^[A-Za-z0-9_-]{16}$/);
    assert.ok(sealer.checkTag(tag, ['key-a', 'srv', 'task-1']));
    assert.ok(!sealer.checkTag(tag, ['key-b', 'srv', 'task-1']));
    assert.ok(!sealer.checkTag(tag, ['key-a', 'srv', 'task-2']));
    // Part boundaries count: ['a\nb'] is not ['a', 'b'].
    assert.notEqual(sealer.tag(['a\nb']), sealer.tag(['a', 'b']));
  });

  it('an empty secret is refused at construction, not turned into a key', () => {
    assert.throws(() => new TokenKeys(''), RangeError);
  });

  it('requestState tokens: readable prefix and payload, bound claims checked by open', () => {
    const tokens = new StateTokens(keys, 'tg1');
    const token = tokens.seal({ x: 'exchange' }, { ttlMs: 60_000, bind: { k: 'key', m: 'tools/call', n: 'echo' } });
    assert.ok(tokens.isOurs(token));
    assert.equal(token.split('.')[0], 'tg1');
    assert.equal(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).n, 'echo');
    assert.equal(tokens.open(token, { k: 'key', m: 'tools/call', n: 'echo' })?.x, 'exchange');
    assert.equal(tokens.open(token, { k: 'key', m: 'tools/call', n: 'other' }), undefined);
    // A tg1 token is not a tg2 token even under the same secret.
    assert.equal(new StateTokens(keys, 'tg2').open(token), undefined);
  });
});
