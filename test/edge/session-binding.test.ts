import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KeyResolver, presentedKey, type Caller } from '../../src/caller/keys.js';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { rawPost, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Only the master key exists until virtual keys arrive, so this process teaches the resolver two more
 * keys with their own identities; everything after the resolver (the session binding) is the real code.
 */
const ALICE = 'sk-alice-0000000000';
const BOB = 'sk-bob-11111111111';

describe('sessions are bound to the key that created them', () => {
  const original = KeyResolver.prototype.resolve;
  let recorder: HeaderRecorder;
  let gw: TestGateway;
  let url: URL;

  before(async () => {
    KeyResolver.prototype.resolve = function (this: KeyResolver, headers: IncomingHttpHeaders): Caller | undefined {
      const key = presentedKey(headers);
      if (key === ALICE || key === BOB) return { keyId: `test:${key.slice(3, 8)}`, isMaster: false };
      return original.call(this, headers);
    };
    recorder = await startHeaderRecorder();
    gw = await startTestGateway(`mcp_servers:\n  rec:\n    url: ${recorder.url}\n  other:\n    url: ${recorder.url}\n`);
    url = gw.mcpUrl('/mcp/rec');
  });
  after(async () => {
    KeyResolver.prototype.resolve = original;
    await gw?.close();
    await recorder?.stop();
  });

  it('another key sees 404 for the session on POST, GET and DELETE; the owner keeps it', async () => {
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'a', version: '1' } },
    });
    const created = await rawPost(url, init, { authorization: `Bearer ${ALICE}` });
    assert.equal(created.status, 200, created.text);
    const sid = created.headers.get('mcp-session-id')!;
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

    const stolen = await rawPost(url, list, { authorization: `Bearer ${BOB}`, 'mcp-session-id': sid });
    assert.equal(stolen.status, 404);
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, {
        method,
        headers: { accept: 'text/event-stream', authorization: `Bearer ${BOB}`, 'mcp-session-id': sid },
      });
      assert.equal(res.status, 404, method);
      await res.body?.cancel();
    }
    // Nor may the session be carried to another server's route by its owner.
    const moved = await rawPost(gw.mcpUrl('/mcp/other'), list, { authorization: `Bearer ${ALICE}`, 'mcp-session-id': sid });
    assert.equal(moved.status, 404);

    const mine = await rawPost(url, list, { authorization: `Bearer ${ALICE}`, 'mcp-session-id': sid });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.json.result.tools[0].name, 'echo');
  });
});
