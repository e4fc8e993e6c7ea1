import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { egressAgent } from '../../src/upstream/egress-agent.js';
import { checkAddress, checkUpstreamUrl, classifyAddress, parseAllowlist, type Resolver } from '../../src/upstream/egress.js';

const NONE = parseAllowlist([]);
/** Admits every private and loopback address and several names: metadata must stay refused anyway. */
const EVERYTHING = parseAllowlist(['0.0.0.0/0', '::/0', 'localhost', '*.internal', 'metadata-proxy.corp']);
const noDns: Resolver = async (host) => {
  throw Object.assign(new Error(`unexpected lookup of ${host}`), { code: 'EUNEXPECTED' });
};
const resolver =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const list = table[host];
    if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('classifyAddress', () => {
  const cases: [string, string][] = [
    ['169.254.169.254', 'metadata-or-link-local'],
    ['169.254.0.1', 'metadata-or-link-local'],
    ['fe80::1', 'metadata-or-link-local'],
    ['febf:ffff::1', 'metadata-or-link-local'],
    ['fd00:ec2::254', 'metadata-or-link-local'],
    ['100.100.100.200', 'metadata-or-link-local'],
    ['::ffff:169.254.169.254', 'metadata-or-link-local'],
    ['::ffff:a9fe:a9fe', 'metadata-or-link-local'],
    ['64:ff9b::a9fe:a9fe', 'metadata-or-link-local'],
    ['2002:a9fe:a9fe::1', 'metadata-or-link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
  ];
  for (const [ip, kind] of cases) it(`${ip} is ${kind}`, () => assert.equal(classifyAddress(ip), kind));

  it('refuses to classify a non-address', () => assert.throws(() => classifyAddress('example.com'), /not an IP address/));
});

describe('checkUpstreamUrl', () => {
  const alwaysRefused = [
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://0xa9fea9fe/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://0251.0376.0251.0376/',
    'http://169.254.43518/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fe80::1]:8080/mcp',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./',
    'http://metadata/',
    'http://metadata.goog/',
    'http://instance-data/',
  ];
  for (const url of alwaysRefused) {
    it(`always refuses ${url}, whatever the allowlist`, async () => {
      for (const allow of [NONE, EVERYTHING]) {
        const refused = await checkUpstreamUrl(url, allow, noDns);
        assert.ok(refused, url);
        assert.match(refused, /link-local or cloud-metadata/);
        assert.match(refused, /toolgate_settings\.upstream_allowlist cannot admit it/);
      }
    });
  }

  const privateOrLoopback: [string, string, string][] = [
    ['http://10.0.0.5:8080/mcp', '10.0.0.0/8', '10.0.0.5'],
    ['http://172.16.4.4/mcp', '172.16.0.0/12', '172.16.4.4'],
    ['http://192.168.1.20/mcp', '192.168.1.0/24', '192.168.1.20'],
    ['http://100.64.1.1/mcp', '100.64.0.0/10', '100.64.1.1'],
    ['http://[fd12::7]/mcp', 'fd12::/16', 'fd12::7'],
    ['http://[fc00::7]/mcp', 'fc00::/7', 'fc00::7'],
    ['http://127.0.0.1:3000/mcp', '127.0.0.1', '127.0.0.1'],
    ['http://2130706433/mcp', '127.0.0.0/8', '127.0.0.1'],
    ['http://[::1]:3000/mcp', '::1', '::1'],
    ['http://0.0.0.0:3000/mcp', '0.0.0.0/8', '0.0.0.0'],
    ['http://[::ffff:10.0.0.5]/mcp', '10.0.0.0/8', '::ffff:a00:5'],
  ];
  for (const [url, cidr, address] of privateOrLoopback) {
    it(`refuses ${url} unless ${cidr} is allow-listed`, async () => {
      const refused = await checkUpstreamUrl(url, NONE, noDns);
      assert.ok(refused);
      assert.match(refused, /(private|loopback) address; add the host or its CIDR to toolgate_settings\.upstream_allowlist/);
      assert.ok(refused.includes(address), refused);
      assert.equal(await checkUpstreamUrl(url, parseAllowlist([cidr]), noDns), undefined);
      assert.ok(
        await checkUpstreamUrl(url, parseAllowlist(['203.0.113.0/24', 'other.internal']), noDns),
        'another entry does not admit it',
      );
    });
  }

  it('treats localhost and *.localhost as loopback whatever they resolve to, and admits them by name', async () => {
    const dns = resolver({ localhost: ['93.184.216.34'], 'api.localhost': ['93.184.216.34'] });
    assert.match(
      (await checkUpstreamUrl('http://localhost:3000/mcp', NONE, dns))!,
      /"localhost" \(93\.184\.216\.34\) is a loopback address/,
    );
    assert.match((await checkUpstreamUrl('http://api.localhost/mcp', NONE, dns))!, /loopback/);
    assert.equal(await checkUpstreamUrl('http://localhost:3000/mcp', parseAllowlist(['localhost']), dns), undefined);
  });

  it('judges a name by every address it resolves to, naming the host and the address', async () => {
    const dns = resolver({
      'mcp.example.com': ['93.184.216.34'],
      'split.example.com': ['93.184.216.34', '10.9.9.9'],
      'rebind.example.com': ['169.254.169.254'],
      'db.internal': ['10.1.1.1'],
      'tools.svc.internal': ['fd12::1'],
      'mapped.example.com': ['::ffff:169.254.169.254'],
    });
    assert.equal(await checkUpstreamUrl('https://mcp.example.com/mcp', NONE, dns), undefined);
    assert.equal(
      await checkUpstreamUrl('https://split.example.com/mcp', NONE, dns),
      'upstream "split.example.com" (10.9.9.9) is a private address; add the host or its CIDR to toolgate_settings.upstream_allowlist to allow it',
    );
    for (const host of ['rebind.example.com', 'mapped.example.com']) {
      const refused = await checkUpstreamUrl(`http://${host}/`, EVERYTHING, dns);
      assert.match(refused!, new RegExp(`"${host}" \\(.*169\\.254\\.169\\.254\\) is a link-local or cloud-metadata address`));
    }
    assert.ok(await checkUpstreamUrl('http://db.internal/mcp', NONE, dns));
    assert.equal(await checkUpstreamUrl('http://db.internal/mcp', parseAllowlist(['db.internal']), dns), undefined);
    assert.equal(await checkUpstreamUrl('http://tools.svc.internal/mcp', parseAllowlist(['*.internal']), dns), undefined);
    assert.equal(await checkUpstreamUrl('http://db.internal/mcp', parseAllowlist(['10.1.0.0/16']), dns), undefined);
    assert.ok(await checkUpstreamUrl('http://db.internal/mcp', parseAllowlist(['*.corp.example']), dns));
  });

  it('fails closed: an unresolvable name, an empty answer, a bad URL or another scheme is refused', async () => {
    const empty: Resolver = async () => [];
    assert.match(
      (await checkUpstreamUrl('http://nowhere.example/mcp', NONE, resolver({})))!,
      /"nowhere\.example" could not be resolved \(ENOTFOUND\)/,
    );
    assert.match((await checkUpstreamUrl('http://void.example/mcp', NONE, empty))!, /resolved to no address/);
    assert.match((await checkUpstreamUrl('not a url', NONE, noDns))!, /not a valid URL/);
    assert.match((await checkUpstreamUrl('file:///etc/passwd', NONE, noDns))!, /must be http:\/\/ or https:\/\//);
  });

  it('uses the system resolver by default', async () => {
    assert.match((await checkUpstreamUrl('http://localhost:1/mcp', NONE))!, /loopback/);
  });
});

describe('checkAddress', () => {
  it('admits public addresses and allow-listed private ones; never metadata', () => {
    assert.equal(checkAddress('93.184.216.34', NONE), undefined);
    assert.match(checkAddress('10.0.0.1', NONE)!, /^upstream 10\.0\.0\.1 is a private address/);
    assert.equal(checkAddress('10.0.0.1', parseAllowlist(['10.0.0.0/8'])), undefined);
    assert.equal(checkAddress('10.0.0.1', parseAllowlist(['svc.internal']), 'svc.internal'), undefined);
    assert.match(checkAddress('169.254.169.254', EVERYTHING, 'metadata-proxy.corp')!, /always refused/);
    assert.match(checkAddress('nonsense', NONE)!, /not an IP address/);
  });
});

describe('parseAllowlist', () => {
  it('reads hosts and CIDRs, IPv4 and IPv6, case and trailing dots aside', () => {
    const a = parseAllowlist(['MCP.Internal.', '*.svc.cluster.local', '10.0.0.0/8', '192.168.1.7', 'fd00::/8', '[::1]']);
    assert.deepEqual([...a.hosts], ['mcp.internal']);
    assert.deepEqual(a.suffixes, ['svc.cluster.local']);
    assert.equal(a.cidrs.length, 4);
  });

  const bad: [string, RegExp][] = [
    ['10.0.0.0/33', /prefix length outside 0-32/],
    ['fd00::/129', /prefix length outside 0-128/],
    ['10.0.0.0/x', /prefix length/],
    ['10.0.0.300/8', /not an address or CIDR/],
    ['http://mcp.internal', /not a host name/],
    ['mcp.internal:8080', /not a host name/],
    ['two words', /not a host name/],
    ['', /not a host name/],
    ['169.254.0.0/16', /can never be admitted/],
    ['fe80::/10', /can never be admitted/],
    ['metadata.google.internal', /can never be admitted/],
  ];
  for (const [entry, why] of bad) {
    it(`refuses ${JSON.stringify(entry)}, naming it`, () => {
      assert.throws(
        () => parseAllowlist(['ok.internal', entry]),
        (err: Error) =>
          err.message.includes(`toolgate_settings.upstream_allowlist entry ${JSON.stringify(entry)}`) && why.test(err.message),
      );
    });
  }

  it('is a config error at its path when config.yaml has a bad entry', () => {
    const yaml = 'toolgate_settings:\n  upstream_allowlist: [10.0.0.0/8, "10.0.0.0/40"]\n  health_check_interval_seconds: 15\n';
    assert.throws(
      () => parseConfig(yaml, 'allow.yaml', {}),
      /toolgate_settings\.upstream_allowlist\[1\].*"10\.0\.0\.0\/40" has a prefix length outside 0-32/s,
    );
    const ok = parseConfig(
      'toolgate_settings:\n  upstream_allowlist: [10.0.0.0/8, localhost]\n  health_check_interval_seconds: 15\n',
      'ok.yaml',
      {},
    );
    assert.deepEqual(ok.settings.upstreamAllowlist, ['10.0.0.0/8', 'localhost']);
    assert.equal(ok.settings.healthCheckIntervalMs, 15_000);
  });
});

describe('the connect-time guard (egressAgent)', () => {
  it('checks every new connection on the resolved address: a name that later resolves to metadata is refused', async () => {
    // Every answer closes its connection, so each request connects (and resolves) anew.
    const server = http.createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const table: Record<string, string[]> = { 'mcp.rebind.test': ['127.0.0.1'] };
    const agent = egressAgent(parseAllowlist(['127.0.0.0/8']), resolver(table));
    const get = async (host: string) => {
      const res = await agent.request({ origin: `http://${host}:${port}`, path: '/', method: 'GET' });
      return res.body.text();
    };
    try {
      assert.equal(await get('mcp.rebind.test'), 'ok');
      table['mcp.rebind.test'] = ['169.254.169.254'];
      await assert.rejects(get('mcp.rebind.test'), (err: Error) => {
        assert.match(err.message, /"mcp\.rebind\.test" \(169\.254\.169\.254\) is a link-local or cloud-metadata address/);
        return true;
      });
      table['mcp.rebind.test'] = ['10.0.0.1', '127.0.0.1'];
      await assert.rejects(get('mcp.rebind.test'), /\(10\.0\.0\.1\) is a private address/);
      await assert.rejects(get('169.254.169.254'), /169\.254\.169\.254 is a link-local or cloud-metadata address/);
      await assert.rejects(get('metadata.google.internal'), /always refused/);
      assert.equal(await get('127.0.0.1'), 'ok', 'an allow-listed literal connects');
      const strict = egressAgent(NONE, resolver(table));
      await assert.rejects(
        strict.request({ origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' }),
        /127\.0\.0\.1 is a loopback address/,
      );
      await assert.rejects(strict.request({ origin: `http://[::1]:${port}`, path: '/', method: 'GET' }), /::1 is a loopback address/);
      await assert.rejects(strict.request({ origin: `http://[::ffff:a9fe:a9fe]:${port}`, path: '/', method: 'GET' }), /always refused/);
      await strict.close();
    } finally {
      await agent.close();
      server.close();
    }
  });
});
