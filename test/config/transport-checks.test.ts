import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const load = (servers: string) => parseConfig(`mcp_servers:\n${servers}`, 'c.yaml', {});

test('check-config warns about transport mistakes it can see in the file', () => {
  const cfg = load(
    '  a:\n    url: http://h.example/mcp\n    transport: streamable_http\n' +
      '  b:\n    url: http://h.example/mcp\n    transport: streamable-http\n' +
      '  c:\n    url: http://h.example/sse\n' +
      '  d:\n    url: http://h.example/mcp/\n    transport: sse\n' +
      '  ok1:\n    url: http://h.example/sse\n    transport: sse\n' +
      '  ok2:\n    url: http://h.example/mcp\n',
  );
  assert.deepEqual(
    cfg.servers.map((s) => [s.name, s.transport]),
    [
      ['a', 'http'],
      ['b', 'http'],
      ['c', 'http'],
      ['d', 'sse'],
      ['ok1', 'sse'],
      ['ok2', 'http'],
    ],
  );
  const [a, b, c, d, ...rest] = cfg.warnings;
  assert.equal(rest.length, 0, cfg.warnings.join('\n'));
  assert.match(a!, /mcp_servers\.a\.transport: "streamable_http" is read as http; write transport: http/);
  assert.match(b!, /mcp_servers\.b\.transport: "streamable-http" is read as http/);
  assert.match(c!, /mcp_servers\.c\.url: ends in \/sse.*add transport: sse/);
  assert.match(d!, /mcp_servers\.d\.url: ends in \/mcp.*use transport: http/);
});

test('an unknown transport is still an error listing the allowed ones; a missing variable names itself', () => {
  assert.throws(
    () => load('  a:\n    url: http://h.example/mcp\n    transport: websocket\n'),
    (err: ConfigError) => {
      assert.match(err.message, /mcp_servers\.a\.transport: got "websocket"; allowed: http, sse, stdio/);
      return true;
    },
  );
  assert.throws(
    () => load('  a:\n    url: http://h.example/mcp\n    auth_type: bearer_token\n    auth_value: os.environ/TG_NOT_SET_X\n'),
    /TG_NOT_SET_X/,
  );
});
