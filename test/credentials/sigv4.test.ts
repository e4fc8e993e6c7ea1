import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsSigV4, parseCredentialsFile, type AwsSigV4Auth } from '../../src/upstream/credentials/sigv4.js';
import type { Credentials, OutboundRequest } from '../../src/upstream/credentials/types.js';
import { startFakeSts, startSigV4Verifier, type FakeSts, type Keyring, type SigV4Verifier } from '../fixtures/sigv4-verifier.js';
import { rejection } from './rejection.js';

const REGION = 'eu-west-3';
const SERVICE = 'bedrock-agentcore';
const CONFIG_KEY = { id: 'AKIACONFIG', secret: 'CANARY-config-secret/abc+def' };
const ENV_KEY = { id: 'AKIAENV', secret: 'CANARY-env-secret', token: 'CANARY-env-session-token' };
const FILE_KEY = { id: 'AKIAFILE', secret: 'CANARY-file-secret' };
const BASE_KEY = { id: 'AKIABASE', secret: 'CANARY-base-secret' };

const keys: Keyring = new Map([
  [CONFIG_KEY.id, { secretAccessKey: CONFIG_KEY.secret }],
  [ENV_KEY.id, { secretAccessKey: ENV_KEY.secret, sessionToken: ENV_KEY.token }],
  [FILE_KEY.id, { secretAccessKey: FILE_KEY.secret }],
  [BASE_KEY.id, { secretAccessKey: BASE_KEY.secret }],
]);

let verifier: SigV4Verifier;
let sts: FakeSts;
let now = Date.now();
const STS_LIFETIME_MS = 15 * 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'toolgate-sigv4-'));

before(async () => {
  verifier = await startSigV4Verifier({ keys, region: REGION, service: SERVICE });
  sts = await startFakeSts({ keys, region: REGION, lifetimeMs: STS_LIFETIME_MS, now: () => now });
});
after(async () => {
  await Promise.all([verifier.close(), sts.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

function auth(overrides: Partial<AwsSigV4Auth> = {}): AwsSigV4Auth {
  return { type: 'aws_sigv4', region: REGION, service: SERVICE, ...overrides };
}

const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { note: 'ünïcode & spaces' } });

async function signed(creds: Credentials, method = 'POST', path = '/mcp/runtime?qualifier=DEFAULT&a=b%20c'): Promise<OutboundRequest> {
  const body = method === 'POST' ? BODY : undefined;
  const req: OutboundRequest = {
    method,
    url: new URL(path, verifier.url),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body,
  };
  await creds.apply(req);
  return req;
}

async function send(req: OutboundRequest, body = req.body): Promise<number> {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body });
  await res.arrayBuffer();
  return res.status;
}

function lastAccepted() {
  const last = verifier.accepted.at(-1);
  assert.ok(last, 'the verifier accepted a request');
  return last;
}

describe('aws sigv4', () => {
  const configured = () =>
    awsSigV4(auth({ accessKeyId: CONFIG_KEY.id, secretAccessKey: CONFIG_KEY.secret }), { serverName: 'agentcore', env: {} });

  it('signs a POST with its body so an independent implementation agrees', async () => {
    const req = await signed(configured());
    assert.equal(await send(req), 200, verifier.rejected.at(-1));
    const got = lastAccepted();
    assert.equal(got.body, BODY);
    assert.equal(got.accessKeyId, CONFIG_KEY.id);
    assert.match(
      String(got.headers.authorization),
      /SignedHeaders=.*content-type.*host.*mcp-protocol-version.*x-amz-content-sha256;x-amz-date/,
    );
    assert.equal(got.headers['x-amz-security-token'], undefined);
  });

  it('signs a GET without a body', async () => {
    assert.equal(await send(await signed(configured(), 'GET', '/mcp')), 200, verifier.rejected.at(-1));
    assert.equal(lastAccepted().method, 'GET');
    assert.equal(lastAccepted().body, '');
  });

  it('is rejected when the body or a signed header changes after signing', async () => {
    const req = await signed(configured());
    assert.equal(await send(req, BODY.replace('tools/list', 'tools/call')), 403);
    assert.equal(verifier.rejected.at(-1), 'body does not match x-amz-content-sha256');
    req.headers['mcp-protocol-version'] = '2025-06-18';
    assert.equal(await send(req), 403);
    assert.equal(verifier.rejected.at(-1), 'signature mismatch');
  });

  it('sends the configured session token', async () => {
    const token = 'CANARY-config-token';
    keys.set('AKIAWITHTOKEN', { secretAccessKey: CONFIG_KEY.secret, sessionToken: token });
    const creds = awsSigV4(auth({ accessKeyId: 'AKIAWITHTOKEN', secretAccessKey: CONFIG_KEY.secret, sessionToken: token }), {
      serverName: 's',
      env: {},
    });
    assert.equal(await send(await signed(creds)), 200, verifier.rejected.at(-1));
    assert.equal(lastAccepted().headers['x-amz-security-token'], token);
  });

  it('falls back to the AWS environment variables', async () => {
    const env = { AWS_ACCESS_KEY_ID: ENV_KEY.id, AWS_SECRET_ACCESS_KEY: ENV_KEY.secret, AWS_SESSION_TOKEN: ENV_KEY.token, HOME: tmp };
    const creds = awsSigV4(auth(), { serverName: 'envs', env });
    assert.equal(await send(await signed(creds)), 200, verifier.rejected.at(-1));
    assert.equal(lastAccepted().accessKeyId, ENV_KEY.id);
    assert.equal(lastAccepted().headers['x-amz-security-token'], ENV_KEY.token);
  });

  it('falls back to the shared credentials file and AWS_PROFILE', async () => {
    const file = join(tmp, 'credentials');
    writeFileSync(
      file,
      `# test\n[default]\naws_access_key_id = AKIANOPE\naws_secret_access_key = nope\n\n[work]\naws_access_key_id = ${FILE_KEY.id}\naws_secret_access_key=${FILE_KEY.secret}\n`,
    );
    const creds = awsSigV4(auth(), { serverName: 'file', env: { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'work', HOME: tmp } });
    assert.equal(await send(await signed(creds)), 200, verifier.rejected.at(-1));
    assert.equal(lastAccepted().accessKeyId, FILE_KEY.id);
  });

  it('parses credentials files with comments, blank lines and CRLF', () => {
    const profiles = parseCredentialsFile('; c\r\n[default]\r\naws_access_key_id=A\r\n\r\n[ other ]\r\nAWS_SECRET_ACCESS_KEY = s = x\r\n');
    assert.deepEqual(profiles.get('default'), { aws_access_key_id: 'A' });
    assert.deepEqual(profiles.get('other'), { aws_secret_access_key: 's = x' });
  });

  it('names the server and every source it tried when there are no credentials', async () => {
    const creds = awsSigV4(auth(), { serverName: 'nocreds', env: { HOME: tmp, AWS_PROFILE: 'missing' } });
    const err = await rejection(signed(creds));
    assert.equal(err.failure, 'unauthorized');
    assert.match(err.message, /'nocreds'.*AWS_ACCESS_KEY_ID.*profile 'missing' in .*credentials/);
  });

  it('refuses half a configured key pair without echoing it', async () => {
    const creds = awsSigV4(auth({ secretAccessKey: CONFIG_KEY.secret }), { serverName: 'half', env: {} });
    const err = await rejection(signed(creds));
    assert.match(err.message, /'half'.*must be set together/);
    assert.ok(!err.message.includes(CONFIG_KEY.secret));
  });

  it('assumes a role through STS, shares the call and renews before expiry', async () => {
    const roleArn = 'arn:aws:iam::123456789012:role/mcp-gateway';
    const creds = awsSigV4(
      auth({ accessKeyId: BASE_KEY.id, secretAccessKey: BASE_KEY.secret, roleName: roleArn, sessionName: 'tg session' }),
      {
        serverName: 'role',
        env: {},
        stsEndpoint: sts.url,
        now: () => now,
      },
    );
    const first = await Promise.all(Array.from({ length: 20 }, () => signed(creds)));
    assert.equal(sts.calls.length, 1, sts.rejected.at(-1));
    assert.deepEqual(sts.calls[0], { roleArn, sessionName: 'tg_session', signedBy: BASE_KEY.id });
    assert.equal(await send(first[0]), 200, verifier.rejected.at(-1));
    const firstKey = lastAccepted().accessKeyId;
    assert.match(firstKey, /^ASIATEMP1/);
    assert.ok(lastAccepted().headers['x-amz-security-token']);

    now += STS_LIFETIME_MS - 5 * 60_000 - 1_000;
    assert.equal(await send(await signed(creds)), 200);
    assert.equal(sts.calls.length, 1);

    now += 2_000;
    assert.equal(await send(await signed(creds)), 200, verifier.rejected.at(-1));
    assert.equal(sts.calls.length, 2);
    assert.notEqual(lastAccepted().accessKeyId, firstKey);

    assert.equal(await creds.refresh!(), true);
    assert.equal(sts.calls.length, 3);
  });

  it('reports a refused AssumeRole with the server, role and STS error, never the base secret', async () => {
    const creds = awsSigV4(auth({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: BASE_KEY.secret, roleName: 'arn:aws:iam::1:role/x' }), {
      serverName: 'denied',
      env: {},
      stsEndpoint: sts.url,
    });
    const err = await rejection(signed(creds));
    assert.equal(err.failure, 'unauthorized');
    assert.match(err.message, /'denied'.*arn:aws:iam::1:role\/x.*AccessDenied.*403/);
    assert.ok(!err.message.includes(BASE_KEY.secret));
  });
});
