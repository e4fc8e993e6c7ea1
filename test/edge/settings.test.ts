import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';

/** The edge's limits as toolgate_settings: defaults suited to a gateway, each overridable, bad values named. */

test('edge limits have gateway defaults', () => {
  const s = parseConfig('mcp_servers: {}\n', 'c.yaml', {}).settings;
  assert.equal(s.maxJsonDepth, 64);
  assert.equal(s.maxBatchSize, 50);
  assert.equal(s.streamBufferBytes, 4 * 1024 * 1024);
  assert.equal(s.headersTimeoutMs, 10_000);
  assert.equal(s.requestTimeoutMs, 60_000);
  assert.equal(s.idleTimeoutMs, 65_000);
  assert.equal(s.maxConnections, 4096);
});

test('edge limits are read from toolgate_settings', () => {
  const s = parseConfig(
    'toolgate_settings:\n  max_json_depth: 20\n  max_batch_size: 3\n  stream_buffer_bytes: 100000\n' +
      '  header_timeout_seconds: 2\n  request_timeout_seconds: 5\n  idle_timeout_seconds: 7\n  max_connections: 9\n',
    'c.yaml',
    {},
  ).settings;
  assert.deepEqual(
    [s.maxJsonDepth, s.maxBatchSize, s.streamBufferBytes, s.headersTimeoutMs, s.requestTimeoutMs, s.idleTimeoutMs, s.maxConnections],
    [20, 3, 100_000, 2000, 5000, 7000, 9],
  );
});

test('a bad limit names the key and what is expected', () => {
  assert.throws(() => parseConfig('toolgate_settings:\n  max_json_depth: 2\n', 'c.yaml', {}), /max_json_depth[\s\S]*at least 8/);
  assert.throws(() => parseConfig('toolgate_settings:\n  max_batch_size: 0\n', 'c.yaml', {}), /max_batch_size[\s\S]*greater than 0/);
  assert.throws(() => parseConfig('toolgate_settings:\n  stream_buffer_bytes: 10\n', 'c.yaml', {}), /stream_buffer_bytes[\s\S]*65536/);
});
