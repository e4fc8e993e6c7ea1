/**
 * The one cancel type on the request path: what reaches a bound target, a followed parent or a
 * lazily made AbortSignal, and what the shared never-aborted cancel refuses to hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyAbort, NEVER_ABORTED, onCancel, signalOf } from '../../src/mcp/lazy-abort.js';

describe('LazyAbort', () => {
  it('routes an abort to every bound target once, with its reason; an undone target hears nothing', () => {
    const a = new LazyAbort();
    const heard: unknown[] = [];
    a.bind((r) => heard.push(['one', r]));
    const undo = a.bind((r) => heard.push(['two', r]));
    undo();
    a.abort('gone');
    a.abort('again');
    assert.deepEqual(heard, [['one', 'gone']]);
    assert.equal(a.aborted, true);
    assert.equal(a.reason, 'gone');
  });

  it('gives an AbortError reason when none is given, and a signal read late is already aborted with it', () => {
    const a = new LazyAbort();
    a.abort();
    assert.equal((a.reason as Error).name, 'AbortError');
    assert.equal(a.signal.aborted, true);
    assert.equal(a.signal.reason, a.reason);
  });

  it('aborts a signal read before the abort', () => {
    const a = new LazyAbort();
    const signal = a.signal;
    assert.equal(signal.aborted, false);
    a.abort('late');
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, 'late');
    assert.equal(signalOf(a), signal);
  });

  it('follows a LazyAbort or an AbortSignal parent until unfollowed', () => {
    for (const make of [() => new LazyAbort(), () => new AbortController()]) {
      const parent = make();
      const cancel = parent instanceof LazyAbort ? parent : parent.signal;
      const child = new LazyAbort();
      child.follow(cancel);
      parent.abort('parent went');
      assert.equal(child.reason, 'parent went');

      const other = make();
      const late = new LazyAbort();
      const unfollow = late.follow(other instanceof LazyAbort ? other : other.signal);
      unfollow();
      other.abort('too late');
      assert.equal(late.aborted, false);
    }
  });

  it('follows a parent that is already aborted at once', () => {
    const parent = new LazyAbort();
    parent.abort('before');
    const child = new LazyAbort();
    child.follow(parent);
    assert.equal(child.reason, 'before');
  });

  it('onCancel on an AbortSignal removes its listener on undo', () => {
    const ac = new AbortController();
    const heard: unknown[] = [];
    const undo = onCancel(ac.signal, (r) => heard.push(r));
    undo();
    ac.abort('x');
    assert.equal(heard.length, 0);
    const ac2 = new AbortController();
    onCancel(ac2.signal, (r) => heard.push(r));
    ac2.abort('y');
    assert.deepEqual(heard, ['y']);
  });

  it('onCancel on a cancel that already fired calls back at once and holds nothing', () => {
    const heard: unknown[] = [];
    const a = new LazyAbort();
    a.abort('early');
    onCancel(a, (r) => heard.push(r));
    const ac = new AbortController();
    ac.abort('early too');
    onCancel(ac.signal, (r) => heard.push(r));
    assert.deepEqual(heard, ['early', 'early too']);
    assert.equal((a as unknown as { targets?: unknown[] }).targets, undefined);
  });

  it('a target that throws keeps neither the other targets nor the signal from hearing the abort', () => {
    const a = new LazyAbort();
    const signal = a.signal;
    const heard: unknown[] = [];
    a.bind(() => {
      throw new Error('broken target');
    });
    a.bind((r) => heard.push(r));
    assert.throws(() => a.abort('gone'), /broken target/);
    assert.deepEqual(heard, ['gone']);
    assert.equal(signal.aborted, true);
  });

  it('NEVER_ABORTED cannot be aborted and holds no target (it is shared by every uncancellable request)', () => {
    const heard: unknown[] = [];
    NEVER_ABORTED.bind((r) => heard.push(r));
    new LazyAbort().follow(NEVER_ABORTED);
    const parent = new LazyAbort();
    NEVER_ABORTED.follow(parent);
    assert.equal((parent as unknown as { targets?: unknown[] }).targets, undefined);
    NEVER_ABORTED.abort('someone tried');
    assert.equal(NEVER_ABORTED.aborted, false);
    assert.equal(NEVER_ABORTED.signal.aborted, false);
    assert.deepEqual(heard, []);
    // Held targets would pile up forever on a shared cancel: none may be kept.
    assert.equal((NEVER_ABORTED as unknown as { targets?: unknown[] }).targets, undefined);
  });
});
