import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { Redactor, redactorFor } from '../../src/upstream/redact.js';

describe('Redactor', () => {
  it('masks every form a configured secret travels in', () => {
    const config = parseConfig(
      'mcp_servers:\n  s:\n    url: http://127.0.0.1:1/mcp\n    auth_type: basic\n    auth_value: "alice:hunter2-canary"\n' +
        '    static_headers: { x-key: static-canary-value }\n',
      'redact.yaml',
      {},
    );
    const r = redactorFor(config.servers[0]!);
    const b64 = Buffer.from('alice:hunter2-canary').toString('base64');
    const text = `Authorization: Basic ${b64}; user alice:hunter2-canary; pw hunter2-canary; x-key static-canary-value`;
    const clean = r.redact(text);
    for (const s of [b64, 'hunter2-canary', 'static-canary-value']) assert.ok(!clean.includes(s), clean);
    assert.match(clean, /\[redacted\]/);
  });

  it('learns tokens put on the wire, with or without their scheme, and forgets the oldest beyond its bound', () => {
    const r = new Redactor();
    r.learn('Bearer oauth-token-canary-1');
    assert.equal(r.redact('got oauth-token-canary-1 back'), 'got [redacted] back');
    assert.equal(r.redact('Bearer oauth-token-canary-1'), '[redacted]');
    for (let i = 0; i < 200; i++) r.learn(`learnt-token-${i}`);
    assert.equal(r.redact('learnt-token-199'), '[redacted]');
    assert.equal(r.redact('oauth-token-canary-1'), 'oauth-token-canary-1', 'bounded: the oldest learnt value is forgotten');
  });

  it('leaves short values alone and redacts JSON values', () => {
    const r = new Redactor(['abc', 'long-secret-value']);
    assert.equal(r.redact('abc'), 'abc');
    assert.deepEqual(r.redactValue({ h: { authorization: 'Bearer long-secret-value' } }), { h: { authorization: 'Bearer [redacted]' } });
  });
});
