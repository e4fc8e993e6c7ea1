import assert from 'node:assert/strict';
import { UpstreamError } from '../../src/upstream/transport.js';

/** The UpstreamError a credential provider fails with; any other outcome fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof UpstreamError, `expected UpstreamError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}
