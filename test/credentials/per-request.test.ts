import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { extraHeadersFor, perRequestHeaders, perRequestServerKey } from '../../src/upstream/credentials/per-request.js';

const SERVERS = [{ name: 'github', alias: 'gh' }, { name: 'my-server.v2' }, { name: 'Jira Cloud' }, { name: 'other' }];

describe('per-request x-mcp-{server}-{header}', () => {
  it('normalizes names as LiteLLM does', () => {
    assert.equal(perRequestServerKey('my-server.v2'), 'my_server_v2');
    assert.equal(perRequestServerKey('Jira Cloud'), 'jira_cloud');
    assert.equal(perRequestServerKey('snake_case9'), 'snake_case9');
  });

  it('routes each header to its server only, by name or alias', () => {
    const map = perRequestHeaders(
      {
        'x-mcp-github-authorization': 'Bearer CANARY-gh',
        'x-mcp-gh-x-api-key': 'k1',
        'x-mcp-my_server_v2-x-tenant': 't',
        'x-mcp-jira_cloud-authorization': 'Basic CANARY-jira',
      },
      SERVERS,
    );
    assert.deepEqual(map.get('github'), { authorization: 'Bearer CANARY-gh', 'x-api-key': 'k1' });
    assert.deepEqual(map.get('my-server.v2'), { 'x-tenant': 't' });
    assert.deepEqual(map.get('Jira Cloud'), { authorization: 'Basic CANARY-jira' });
    assert.equal(map.has('other'), false);
    assert.equal(JSON.stringify(map.get('github')).includes('CANARY-jira'), false);
  });

  it('splits at the first dash after x-mcp-, so a dashed server name never matches literally', () => {
    const map = perRequestHeaders({ 'x-mcp-my-server.v2-authorization': 'Bearer t' }, SERVERS);
    assert.equal(map.size, 0);
  });

  it('matches header names case-insensitively', () => {
    const map = perRequestHeaders({ 'X-MCP-GitHub-Authorization': 'Bearer t' } as IncomingHttpHeaders, SERVERS);
    assert.deepEqual(map.get('github'), { authorization: 'Bearer t' });
  });

  it('skips reserved headers, empty parts and headers the gateway or transport own', () => {
    const map = perRequestHeaders(
      {
        'x-mcp-servers': 'github',
        'x-mcp-access-groups': 'g',
        'x-mcp-auth': 'CANARY-broadcast',
        'x-mcp-toolset-id': 'x',
        'x-mcp-github-': 'empty header',
        'x-mcp--authorization': 'empty server',
        'x-mcp-github-x-litellm-api-key': 'CANARY-key',
        'x-mcp-github-host': 'evil',
        'x-mcp-github-content-length': '1',
        'x-mcp-github-mcp-session-id': 's',
        'x-mcp-github-connection': 'close',
      },
      SERVERS,
    );
    assert.equal(map.size, 0);
  });

  it('joins repeated values', () => {
    const map = perRequestHeaders({ 'x-mcp-other-x-tag': ['a', 'b'] }, SERVERS);
    assert.deepEqual(map.get('other'), { 'x-tag': 'a, b' });
  });
});

describe('extra_headers', () => {
  it('copies the listed client headers case-insensitively', () => {
    const out = extraHeadersFor({ 'x-tenant': 't1', 'x-request-id': 'r', 'x-other': 'no' }, ['X-Tenant', 'x-request-id', 'x-missing']);
    assert.deepEqual(out, { 'x-tenant': 't1', 'x-request-id': 'r' });
  });

  it('never copies the gateway credential or hop-by-hop headers', () => {
    const out = extraHeadersFor(
      {
        authorization: 'Bearer CANARY-gateway',
        'x-litellm-api-key': 'CANARY-key',
        connection: 'keep-alive',
        host: 'h',
        'content-length': '3',
      },
      ['Authorization', 'x-litellm-api-key', 'connection', 'host', 'content-length'],
    );
    assert.deepEqual(out, {});
  });
});
