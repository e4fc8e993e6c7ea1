import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCursorCodec, fingerprint, type CursorRejection } from '../../src/router/cursor.js';
import { ErrorCode, McpError } from '../../src/mcp/jsonrpc.js';

function rejects(fn: () => unknown, reason: CursorRejection): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof McpError);
    assert.equal(e.code, ErrorCode.InvalidParams);
    assert.equal(e.message, 'Invalid cursor');
    assert.deepEqual(e.data, { reason });
    return true;
  });
}

/** A clock the test moves by hand. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('cursor codec', () => {
  it('round-trips position, upstream cursor and scope', () => {
    const codec = createCursorCodec('s3cret');
    const upstream = 'eyJvZmZzZXQiOjUwfQ==/+ weird ✓';
    const cursor = codec.encode({ s: 3, c: upstream, v: 'scope-1' });
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(codec.decode(cursor, 'scope-1'), { s: 3, c: upstream, v: 'scope-1' });
    assert.deepEqual(codec.decode(codec.encode({ s: 0, v: 'x' }), 'x'), { s: 0, v: 'x' });
  });

  it('is opaque: the upstream cursor is not readable as plain text in it', () => {
    const codec = createCursorCodec('s3cret');
    assert.ok(!codec.encode({ s: 1, c: 'page-two', v: 'v' }).includes('page-two'));
  });

  it('decodes on another replica with the same secret, not with another secret', () => {
    const cursor = createCursorCodec(Buffer.from('shared')).encode({ s: 1, v: 'v' });
    assert.deepEqual(createCursorCodec('shared').decode(cursor, 'v'), { s: 1, v: 'v' });
    rejects(() => createCursorCodec('other').decode(cursor, 'v'), 'tampered');
  });

  it('refuses every single-character change, including in unused trailing bits', () => {
    const codec = createCursorCodec('k');
    // Upstream cursors of three lengths cover all three base64 tail shapes.
    for (const c of ['abc', 'abcd', 'abcde']) {
      const cursor = codec.encode({ s: 2, c, v: 'v' });
      for (let i = 0; i < cursor.length; i++) {
        for (const ch of ['A', 'B', 'w', '_']) {
          if (ch === cursor[i]) continue;
          const forged = cursor.slice(0, i) + ch + cursor.slice(i + 1);
          assert.throws(() => codec.decode(forged, 'v'), McpError, `change at ${i} to ${ch} accepted`);
        }
      }
    }
  });

  it('refuses a forged position signed with nothing', () => {
    const codec = createCursorCodec('k');
    const payload = Buffer.from(JSON.stringify([1, 9, 'v', Date.now()]));
    rejects(() => codec.decode(Buffer.concat([payload, Buffer.alloc(16)]).toString('base64url'), 'v'), 'tampered');
  });

  it('refuses malformed input', () => {
    const codec = createCursorCodec('k');
    for (const bad of ['', 'not base64!', 'abc', '====', 'A'.repeat(9000)]) rejects(() => codec.decode(bad, 'v'), 'malformed');
    rejects(() => codec.decode(42 as unknown as string, 'v'), 'malformed');
  });

  it('expires after the max age and accepts before it', () => {
    const t = clock();
    const codec = createCursorCodec('k', { now: t.now, maxAgeMs: 60_000 });
    const cursor = codec.encode({ s: 1, v: 'v' });
    t.advance(59_000);
    assert.deepEqual(codec.decode(cursor, 'v'), { s: 1, v: 'v' });
    t.advance(2_000);
    rejects(() => codec.decode(cursor, 'v'), 'expired');
  });

  it('expires after 10 minutes by default', () => {
    const t = clock();
    const codec = createCursorCodec('k', { now: t.now });
    const cursor = codec.encode({ s: 1, v: 'v' });
    t.advance(9 * 60_000);
    codec.decode(cursor, 'v');
    t.advance(2 * 60_000);
    rejects(() => codec.decode(cursor, 'v'), 'expired');
  });

  it('refuses a cursor issued far in the future', () => {
    const t = clock();
    const issuer = createCursorCodec('k', { now: () => t.now() + 10 * 60_000 });
    rejects(() => createCursorCodec('k', { now: t.now }).decode(issuer.encode({ s: 0, v: 'v' }), 'v'), 'expired');
  });

  it('refuses a cursor from another scope or catalog version', () => {
    const codec = createCursorCodec('k');
    const a = fingerprint(['github', 'jira']);
    const b = fingerprint(['github']);
    assert.notEqual(a, b);
    rejects(() => codec.decode(codec.encode({ s: 1, v: a }), b), 'scope');
  });

  it('refuses invalid state to encode and an empty secret', () => {
    assert.throws(() => createCursorCodec(''), RangeError);
    assert.throws(() => createCursorCodec('k').encode({ s: -1, v: 'v' }), RangeError);
    assert.throws(() => createCursorCodec('k').encode({ s: 1.5, v: 'v' }), RangeError);
  });
});

describe('fingerprint', () => {
  it('is stable and sensitive to part boundaries', () => {
    assert.equal(fingerprint(['a', 'b']), fingerprint(['a', 'b']));
    assert.notEqual(fingerprint(['a,b']), fingerprint(['a', 'b']));
    assert.match(fingerprint([]), /^[A-Za-z0-9_-]{16}$/);
  });
});
