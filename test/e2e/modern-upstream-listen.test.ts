import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createParser } from 'eventsource-parser';
import type { ModernUpstreamSession } from '../../src/upstream/modern-session.js';
import { startModernOnlyServer, type ModernOnlyServer } from '../fixtures/modern-only-server.js';
import { connectClient, EVERYTHING_STDIO, startTestGateway, TEST_KEY, textOf, type TestGateway } from '../helpers/gateway.js';
import { until, within } from '../helpers/within.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** A guard against hanging, not a timing assertion: what we wait for either comes or the test fails. */
/** The JSON-RPC messages of an SSE body, one at a time. */
function sseMessages(body: ReadableStream<Uint8Array>): () => Promise<any> {
  const queue: any[] = [];
  let wake: (() => void) | undefined;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data) queue.push(JSON.parse(ev.data));
      wake?.();
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    wake?.();
  })();
  return async () => {
    while (queue.length === 0) await within(new Promise<void>((r) => (wake = r)), 'a message on the listen stream');
    return queue.shift();
  };
}

describe('a 2026-07-28-only upstream: listen, subscriptions and log levels for 2025 clients', () => {
  let fixture: ModernOnlyServer;
  let gw: TestGateway;
  const clients: Client[] = [];
  const connect = async (path: string, opts: Parameters<typeof connectClient>[1] = {}) => {
    const c = await connectClient(gw.mcpUrl(path), opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    fixture = await startModernOnlyServer();
    gw = await startTestGateway(`mcp_servers:\n  modern:\n    url: ${fixture.url}\n  everything:${EVERYTHING_STDIO}\n`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await gw?.close();
    await fixture?.stop();
  });

  it('tells a 2025 session client on /mcp/{server} about upstream tool changes', async () => {
    const client = await connect('/mcp/modern');
    const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
    const first = await client.listTools();
    assert.ok(first.tools.some((t) => t.name === 'echo'));
    assert.equal(gw.upstreams.get('modern')!.speaksLegacy, false, 'the fixture serves 2026-07-28 only');
    await until(() => fixture.listens > 0, 'the gateway to listen upstream');
    fixture.addTool('added_one');
    await within(changed, 'tools/list_changed');
    const again = await client.listTools(undefined, { cacheMode: 'bypass' });
    assert.ok(again.tools.some((t) => t.name === 'added_one'));
  });

  it('invalidates the aggregate catalog and announces the change on /mcp, without waiting for a TTL', async () => {
    const client = await connect('/mcp');
    let changes = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void changes++);
    const first = await client.listTools(undefined, { cacheMode: 'bypass' });
    const names = first.tools.map((t) => t.name);
    assert.ok(names.includes('modern-echo'), names.join(', '));
    assert.ok(names.some((n) => n.startsWith('everything-')));
    assert.ok(!names.includes('modern-added_two'));
    await until(() => fixture.listens > 0, 'the gateway to listen upstream');
    // server-everything may announce a change of its own at any time: count, don't wait for "the" one.
    const before = changes;
    fixture.addTool('added_two');
    await until(() => changes > before, 'tools/list_changed on the aggregate');
    // The catalog TTL is 300 s: only the upstream's list_changed can make the new tool appear now.
    const listed = await until(async () => {
      const again = await client.listTools(undefined, { cacheMode: 'bypass' });
      return again.tools.some((t) => t.name === 'modern-added_two');
    }, 'the new tool in the aggregate listing');
    assert.ok(listed, 'the new tool is in the aggregate listing');
    const r = await client.callTool({ name: 'modern-echo', arguments: { text: 'still routed' } });
    assert.equal(textOf(r), 'still routed');
  });

  it('turns resources/subscribe into the upstream listen: updates reach the subscriber only, until it unsubscribes', async () => {
    const a = await connect('/mcp/modern', { name: 'subscriber-a' });
    const b = await connect('/mcp/modern', { name: 'subscriber-b' });
    const aGot: string[] = [];
    const bGot: string[] = [];
    a.setNotificationHandler('notifications/resources/updated', (n) => void aGot.push(String(n.params.uri)));
    b.setNotificationHandler('notifications/resources/updated', (n) => void bGot.push(String(n.params.uri)));
    await a.subscribeResource({ uri: 'test://watched' });
    await a.subscribeResource({ uri: 'test://sentinel' });
    await b.subscribeResource({ uri: 'test://other' });
    fixture.resourceUpdated('test://watched');
    fixture.resourceUpdated('test://other');
    await until(() => aGot.includes('test://watched') && bGot.includes('test://other'), 'both updates');
    // One upstream stream, relayed in order: had b received watched, it would have come before other.
    assert.deepEqual(bGot, ['test://other']);

    await a.unsubscribeResource({ uri: 'test://watched' });
    fixture.resourceUpdated('test://watched');
    fixture.resourceUpdated('test://sentinel');
    await until(() => aGot.includes('test://sentinel'), 'the sentinel update');
    assert.deepEqual(aGot, ['test://watched', 'test://sentinel']);
  });

  it("sends a client's log level with that client's requests only, and its log messages to it alone", async () => {
    const a = await connect('/mcp/modern', { name: 'logger-a' });
    const b = await connect('/mcp/modern', { name: 'logger-b' });
    const aMsgs: string[] = [];
    const bMsgs: string[] = [];
    a.setNotificationHandler('notifications/message', (n) => void aMsgs.push(String(n.params.data)));
    b.setNotificationHandler('notifications/message', (n) => void bMsgs.push(String(n.params.data)));
    await a.setLoggingLevel('debug');
    await b.setLoggingLevel('info');

    const r = await a.callTool({ name: 'log_messages', arguments: { marker: 'for-a' } });
    assert.equal(textOf(r), 'logged for-a');
    await until(() => aMsgs.includes('second for-a'), "a's log messages");
    assert.deepEqual(aMsgs, ['first for-a', 'second for-a']);

    await b.callTool({ name: 'log_messages', arguments: { marker: 'for-b' } });
    await until(() => bMsgs.includes('second for-b'), "b's log messages");
    // b's messages come on the same client stream after anything a's call could have leaked to it.
    assert.deepEqual(bMsgs, ['first for-b', 'second for-b']);

    const calls = fixture.requests.filter((q) => q.method === 'tools/call' && q.name === 'log_messages');
    assert.deepEqual(
      calls.map((q) => [q.arguments?.marker, q.logLevel]),
      [
        ['for-a', 'debug'],
        ['for-b', 'info'],
      ],
    );
  });

  it('answers logging/setLevel locally on a dedicated session too, and sends the level with its requests', async () => {
    const client = await connect('/mcp/modern', { name: 'dedicated', capabilities: { sampling: {} } });
    const got: string[] = [];
    client.setNotificationHandler('notifications/message', (n) => void got.push(String(n.params.data)));
    await client.setLoggingLevel('notice');
    await client.callTool({ name: 'log_messages', arguments: { marker: 'dedicated' } });
    const call = fixture.requests.find((q) => q.method === 'tools/call' && q.arguments?.marker === 'dedicated');
    assert.equal(call?.logLevel, 'notice');
    // The fixture logs at info, below notice: the server itself filtered them out.
    assert.deepEqual(got, []);
  });

  it('reopens the upstream listen after an unexpected drop', async () => {
    const client = await connect('/mcp/modern', { name: 'after-drop' });
    let changes = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => void changes++);
    await client.listTools();
    const opened = () => fixture.requests.filter((q) => q.method === 'subscriptions/listen').length;
    await until(() => fixture.listens > 0, 'the gateway to listen upstream');
    // The shared session's listen and the dedicated one of the earlier sampling client.
    const live = fixture.listens;
    const before = opened();
    fixture.dropConnections();
    await until(() => opened() >= before + live && fixture.listens >= live, 'the listens to be reopened');
    fixture.addTool('added_after_drop');
    await until(() => changes > 0, 'tools/list_changed after the drop');
    const r = await client.listTools(undefined, { cacheMode: 'bypass' });
    assert.ok(r.tools.some((t) => t.name === 'added_after_drop'));
  });

  it("acknowledges a 2026 client's listen with the resource it asked for, and relays the update", async () => {
    const abort = new AbortController();
    const res = await fetch(gw.mcpUrl('/mcp/modern'), {
      method: 'POST',
      signal: abort.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${TEST_KEY}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'subscriptions/listen',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen-1',
        method: 'subscriptions/listen',
        params: { notifications: { resourceSubscriptions: ['test://watched'] }, _meta: { [PV]: '2026-07-28', [CAPS]: {} } },
      }),
    });
    try {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const next = sseMessages(res.body!);
      const ack = await next();
      assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
      assert.deepEqual(ack.params.notifications.resourceSubscriptions, ['test://watched']);
      assert.equal(ack.params._meta[SUBSCRIPTION_ID], 'listen-1');
      fixture.resourceUpdated('test://watched');
      const update = await next();
      assert.equal(update.method, 'notifications/resources/updated');
      assert.equal(update.params.uri, 'test://watched');
      assert.equal(update.params._meta[SUBSCRIPTION_ID], 'listen-1');
    } finally {
      abort.abort();
    }
    // Its stream closed: the gateway's upstream listen drops the resource nobody else holds.
    const shared = (await gw.upstreams.get('modern')!.sharedSession({})) as ModernUpstreamSession;
    await until(
      () => shared.listening !== undefined && !(shared.listening.resourceSubscriptions ?? []).includes('test://watched'),
      'the upstream listen to drop the resource',
    );
    assert.deepEqual(shared.listening?.resourceSubscriptions, ['test://other', 'test://sentinel']);
  });
});
