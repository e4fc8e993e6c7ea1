import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHeaderRecorder, type HeaderRecorder } from '../fixtures/header-recorder.js';
import { listenLocal } from '../fixtures/listen.js';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';

/**
 * Readiness (issue 11 item 8, issue 15): without the master key each server shows its state and an
 * error class, never upstream text; 503 when no server is usable, 200 degraded when some are.
 */

const CANARY = 'sk-upstream-canary-7c41e9d0';

/** An upstream that reflects the request's Authorization header in a 500 page, as a careless proxy would. */
async function startReflector(): Promise<{ url: string; stop(): Promise<void> }> {
  const { server, port } = await listenLocal(async (req, res) => {
    req.resume();
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream error; you sent Authorization: ${req.headers.authorization}`);
  });
  return { url: `http://127.0.0.1:${port}/mcp`, stop: () => new Promise((r) => server.close(() => r())) };
}

async function readiness(gw: TestGateway, key?: string): Promise<{ status: number; text: string; body: any }> {
  for (let i = 0; i < 400; i++) {
    const r = await fetch(new URL('/health/readiness', gw.url), { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await r.text();
    const body = JSON.parse(text);
    if (body.status !== 'starting') return { status: r.status, text, body };
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('readiness stayed "starting"');
}

describe('readiness without the master key', () => {
  let reflector: Awaited<ReturnType<typeof startReflector>>;
  let recorder: HeaderRecorder;
  let onlyDown: TestGateway;
  let mixed: TestGateway;
  const leaky = () => `  leaky:\n    url: ${reflector.url}\n    auth_type: bearer_token\n    auth_value: ${CANARY}\n    timeout: 2\n`;

  before(async () => {
    reflector = await startReflector();
    recorder = await startHeaderRecorder();
    onlyDown = await startTestGateway(`mcp_servers:\n${leaky()}`);
    mixed = await startTestGateway(`mcp_servers:\n${leaky()}  rec:\n    url: ${recorder.url}\n`);
  });
  after(async () => {
    await onlyDown?.close();
    await mixed?.close();
    await recorder?.stop();
    await reflector?.stop();
  });

  it('answers 503 when no server is usable, with state and error class but no upstream text', async () => {
    const r = await readiness(onlyDown);
    assert.equal(r.status, 503);
    assert.equal(r.body.status, 'unhealthy');
    assert.equal(r.body.servers.leaky.state, 'down');
    assert.equal(typeof r.body.servers.leaky.errorClass, 'string');
    assert.match(r.body.servers.leaky.error, /^server "leaky" /);
    assert.ok(!r.text.includes(CANARY), 'no reflected secret');
    assert.ok(!r.text.includes('you sent'), 'no upstream text at all');
  });

  it('answers 200 degraded when some servers are usable', async () => {
    const r = await readiness(mixed);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'degraded');
    assert.equal(r.body.servers.rec.state, 'ready');
    assert.equal(r.body.servers.rec.errorClass, undefined);
    assert.equal(r.body.servers.leaky.state, 'down');
    assert.ok(!r.text.includes('you sent'));
  });

  it('gives the master key the upstream detail', async () => {
    const r = await readiness(mixed, TEST_KEY);
    assert.equal(r.body.servers.leaky.state, 'down');
    assert.ok(r.body.servers.leaky.error, 'detail for the operator');
    assert.ok(!/^server "leaky" /.test(r.body.servers.leaky.error), "the upstream's own message, not the class sentence");
  });
});
