/**
 * Issue 11's closing figures, measured: "bad inputs tried, crashes, hangs, leaks, secrets exposed".
 * Builds and starts Toolgate as a user would (dist/cli/main.js in its own process), in front of a healthy
 * echo upstream and a misbehaving one, both with canary bearer secrets, then sends hostile inputs over
 * raw sockets and undici, interleaving a healthy tools/call, and prints a markdown table.
 *   npx tsx bench/hostile.ts [--rounds 3]        (never part of npm test; one round is ~1,230 inputs)
 * Everything binds and connects to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { TMP, buildToolgate, startEchoFleet, startToolgate, type Toolgate } from './launch.js';
import { installCleanup, sleep, stopAll } from './processes.js';

const HANG_MS = 15_000;
/** Two canaries, one per upstream: any response or log line containing either is a leaked secret. */
const CANARY_HEALTHY = `ghp_HOSTILE_CANARY_${randomBytes(12).toString('hex')}`;
const CANARY_BAD = `ghp_HOSTILE_CANARY_${randomBytes(12).toString('hex')}`;
/** A healthy tools/call every this many inputs, to show the good server keeps answering. */
const HEALTHY_EVERY = 25;
/** Modest, because the machine has 2 cores shared with other work. */
const CONCURRENCY = 4;
const SLOW_CONNECTIONS = 40;
const SLOW_WATCH_MS = 30_000;

/** An HTTP status, or what happened instead: the gateway closed without one, nothing came, or the client failed. */
interface Answer {
  status: number | 'closed' | 'hang' | 'error';
  body: string;
  headers: string;
  /** An SSE stream still open after HANG_MS (long-lived by design for some methods). */
  open?: boolean;
}
interface Input {
  category: string;
  label: string;
  send(): Promise<Answer>;
}

// ---------------------------------------------------------------- the misbehaving upstream

/**
 * Answers initialize and notifications properly (so the gateway keeps trying it), and every other request
 * with the next misbehaviour in the cycle. Several of them echo the Authorization header it was sent,
 * which carries CANARY_BAD: the gateway must not relay that to its client, its logs or readiness.
 */
async function startMisbehaving(): Promise<{ url: string; close(): void; modes: Map<string, number> }> {
  const huge = Buffer.alloc(20 * 1024 * 1024, 'x');
  const modes = new Map<string, number>();
  const cycle = ['garbage', 'html500', 'json403', 'hang', 'huge200', 'huge500', 'midstream', 'sse-garbage', 'wrong-id', 'echo200'] as const;
  let n = 0;
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: { id?: unknown; method?: string } = {};
      try {
        msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof msg;
      } catch {
        // Not ours to judge; misbehave anyway.
      }
      const sentAuth = String(req.headers.authorization ?? '');
      if (req.method !== 'POST') return void res.writeHead(405).end();
      if (msg.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': randomBytes(8).toString('hex') });
        return void res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: msg.id,
            result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'bad', version: '0' } },
          }),
        );
      }
      if (msg.id === undefined) return void res.writeHead(202).end();
      // A proper tools/list, so the gateway knows the tool and forwards tools/call here to meet the cycle.
      if (msg.method === 'tools/list') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const tool = { name: 'anything', inputSchema: { type: 'object' } };
        return void res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { tools: [tool] } }));
      }
      const mode = cycle[n++ % cycle.length]!;
      modes.set(mode, (modes.get(mode) ?? 0) + 1);
      // The mode travels with the echoed credential, so an exposure can be traced to the misbehaviour.
      const auth = `mode=${mode} ${sentAuth}`;
      switch (mode) {
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('}{ not json \u0000\uffff');
        case 'html500':
          res.writeHead(500, { 'content-type': 'text/html' });
          return void res.end(`<html><body>Internal error. You sent Authorization: ${auth}</body></html>`);
        case 'json403':
          res.writeHead(403, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ error: `forbidden for ${auth}` }));
        case 'hang':
          // Never answers; the gateway's per-server timeout (5 s here) must answer the client.
          hung.add(res);
          return;
        case 'huge200':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{"content":[{"type":"text","text":"${auth}`);
          res.write(huge);
          return void res.end('"}]}}');
        case 'huge500':
          res.writeHead(500, { 'content-type': 'text/html' });
          res.write(`<html>${auth}`);
          return void res.end(huge);
        case 'midstream':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
          res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{"content":[`);
          return void setTimeout(() => res.destroy(), 50);
        case 'sse-garbage':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`event: message\ndata: {"broken": ${auth}\n\ndata: \u0000\n\n`);
          return void setTimeout(() => res.end(), 50);
        case 'echo200':
          // A well-formed, small tool result whose text is the credential: is success text redacted too?
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: auth }] } }));
        case 'wrong-id':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ jsonrpc: '2.0', id: 'not-yours', result: { auth } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    modes,
    close() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

// ---------------------------------------------------------------- senders

const agent = new Agent({ connections: CONCURRENCY * 2, pipelining: 1 });

/**
 * One request through undici; no response headers within HANG_MS is a hang. A plain body must also end
 * within HANG_MS; an SSE stream that is still open then is reported as `open`, not as a hang, because
 * some methods (subscriptions/listen) are long-lived streams by design.
 */
async function send(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const ac = new AbortController();
  let phase: 'headers' | 'body' = 'headers';
  const timer = setTimeout(() => ac.abort(), HANG_MS);
  try {
    const res = await request(base + path, {
      dispatcher: agent,
      method: (opts.method ?? 'POST') as 'POST',
      headers: opts.headers ?? {},
      body: opts.body,
      signal: ac.signal,
    });
    phase = 'body';
    const headers = JSON.stringify(res.headers);
    const chunks: Buffer[] = [];
    try {
      for await (const c of res.body) chunks.push(c as Buffer);
    } catch (err) {
      const body = Buffer.concat(chunks).toString('utf8');
      if (ac.signal.aborted && String(res.headers['content-type']).includes('text/event-stream'))
        return { status: res.statusCode, body, headers, open: true };
      if (ac.signal.aborted) return { status: 'hang', body, headers };
      return { status: 'error', body: `${String(err)} after HTTP ${res.statusCode}: ${body}`, headers };
    }
    return { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers };
  } catch (err) {
    if (ac.signal.aborted) return { status: 'hang', body: `no ${phase}`, headers: '' };
    return { status: 'error', body: String(err), headers: '' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes `bytes` on a fresh socket, half-closes it (so the gateway sees the end of input and a well-behaved
 * server answers and closes), and reads the answer: its status line, or 'closed' when the gateway closes
 * without a status line, or 'hang' when nothing ends it within HANG_MS.
 */
function raw(port: number, bytes: Buffer | string): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let done = false;
    const finish = (kind?: 'hang'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(got).toString('latin1');
      // The first final status line: `Expect: 100-continue` earns a 100 before it.
      const m = /^HTTP\/1\.[01] ([2-5]\d\d)/m.exec(text);
      if (kind === 'hang' && !m) return resolve({ status: 'hang', body: text, headers: '' });
      resolve(m ? { status: Number(m[1]), body: text, headers: '' } : { status: 'closed', body: text, headers: '' });
    };
    const timer = setTimeout(() => finish('hang'), HANG_MS);
    sock.on('connect', () => {
      sock.write(bytes);
      sock.end();
    });
    sock.on('data', (c: Buffer) => got.push(c));
    sock.on('error', () => finish());
    sock.on('close', () => finish());
  });
}

// ---------------------------------------------------------------- the inputs

const rpc = (method: string, params?: unknown, id: unknown = 1): string =>
  JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });

function nested(depth: number, leaf = '1'): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth);
}

/** `sessions`: a live 2025 session id per MCP path, so inputs meet the checks behind the session check. */
function buildInputs(gw: Toolgate, port: number, sessions: Record<string, string>): Input[] {
  const session = sessions['/mcp/healthy']!;
  const out: Input[] = [];
  const key = gw.headers;
  const json = {
    ...key,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  };
  const withSession = (path: string): Record<string, string> => (sessions[path] ? { ...json, 'mcp-session-id': sessions[path] } : json);
  const add = (category: string, label: string, fn: () => Promise<Answer>): void => void out.push({ category, label, send: fn });
  const post = (
    category: string,
    label: string,
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = withSession(path),
  ): void => add(category, label, () => send(gw.base, path, { headers, body }));
  const paths = ['/mcp', '/mcp/healthy'];

  // Malformed JSON: truncations of a valid message, and a list of classic breakages.
  const valid = rpc('tools/call', { name: 'echo', arguments: { text: 'hi' } });
  const broken = [
    '',
    ' ',
    '{',
    '}',
    '[',
    'null',
    'true',
    '1',
    '"str"',
    "{'jsonrpc':'2.0'}",
    '{"jsonrpc":"2.0",}',
    '{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
    '{"jsonrpc":"2.0","id":Infinity,"method":"ping"}',
    '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping"} trailing',
    '{"jsonrpc":"1.0","id":1,"method":"ping"}',
    '{"id":1,"method":"ping"}',
    '{"jsonrpc":"2.0","id":{},"method":"ping"}',
    '{"jsonrpc":"2.0","id":[1],"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":42}',
    '{"jsonrpc":"2.0","id":1,"method":null}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"method":"\\ud800"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}',
    '{"jsonrpc":"2.0","id":1e400,"method":"ping"}',
    `{"jsonrpc":"2.0","id":${'9'.repeat(5000)},"method":"ping"}`,
    '\u0000\u0001\u0002',
  ];
  for (const p of paths) {
    for (const b of broken) post('malformed JSON', b.slice(0, 40), p, b);
    for (let i = 1; i < valid.length; i += 2) post('malformed JSON', `truncated at ${i}`, p, valid.slice(0, i));
    post('malformed JSON', 'invalid UTF-8', p, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  }

  // Content types and Accept headers that are wrong or missing.
  const types = [
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    'application/jsonx',
    'APPLICATION/JSON',
    'application/json, text/html',
    '*/*',
    'application/json\u0000',
  ];
  const accepts = ['', 'text/html', 'text/event-stream', 'application/json', '*/*'];
  for (const p of paths) {
    for (const t of types) {
      const h: Record<string, string> = { ...withSession(p) };
      if (t) h['content-type'] = t.replace('\u0000', '');
      else delete h['content-type'];
      post('content types', `content-type "${t}"`, p, rpc('ping'), h);
    }
    for (const a of accepts) {
      const h: Record<string, string> = { ...withSession(p), accept: a };
      if (!a) delete h.accept;
      post('content types', `accept "${a}"`, p, rpc('tools/list'), h);
    }
  }

  // Bodies over the limit (max_body_bytes: 4 MiB by default).
  for (const mib of [4.001, 5, 16]) {
    const big = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'a'.repeat(mib * 1024 * 1024)}"}}`;
    for (const p of paths) post('bodies over the limit', `${mib} MiB`, p, big);
  }
  add('bodies over the limit', '50 MiB declared, 1 KiB sent', () =>
    raw(
      port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${key.authorization}\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n${'a'.repeat(1024)}`,
    ),
  );

  // JSON nested beyond max_json_depth (64 by default), in every place a client controls.
  for (const d of [65, 100, 1000, 10_000, 100_000]) {
    for (const p of paths) {
      post(
        'deep nesting',
        `arguments ${d}`,
        p,
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":${nested(d)}}}}`,
      );
      post('deep nesting', `id ${d}`, p, `{"jsonrpc":"2.0","id":${nested(d)},"method":"ping"}`);
      post('deep nesting', `batch ${d}`, p, nested(d, rpc('ping')));
      post(
        'deep nesting',
        `initialize capabilities ${d}`,
        p,
        `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"x","version":"1"},"capabilities":{"experimental":{"x":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}}}}`,
        json,
      );
    }
  }

  // params of the wrong shape, per method.
  const methods = [
    'tools/call',
    'tools/list',
    'resources/list',
    'resources/read',
    'prompts/list',
    'prompts/get',
    'ping',
    'completion/complete',
    'logging/setLevel',
    'initialize',
  ];
  const shapes: unknown[] = [
    [],
    [1, 2],
    'str',
    1,
    null,
    true,
    { _meta: 'str' },
    { _meta: [] },
    { _meta: 1 },
    { name: 'echo', arguments: 'str' },
    { name: 'echo', arguments: [1] },
    { name: 1 },
    { cursor: {} },
  ];
  for (const p of paths)
    for (const m of methods) for (const s of shapes) post('params of the wrong shape', `${m} ${JSON.stringify(s)}`, p, rpc(m, s));

  // Method and tool names that are Object.prototype keys.
  const proto = [
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
    'propertyIsEnumerable',
    'toLocaleString',
  ];
  for (const p of paths) {
    for (const m of proto) {
      post('prototype names', `method ${m}`, p, rpc(m));
      post('prototype names', `tool ${m}`, p, rpc('tools/call', { name: m, arguments: {} }));
      post('prototype names', `prompt ${m}`, p, rpc('prompts/get', { name: m }));
      post('prototype names', `log level ${m}`, p, rpc('logging/setLevel', { level: m }));
    }
  }
  for (const m of proto) post('prototype names', `server /mcp/${m}`, `/mcp/${m}`, rpc('tools/list'));

  // Bad percent-encodings in the path, with and without a key, on each method.
  const bad = [
    '/mcp/%',
    '/mcp/%zz',
    '/mcp/%ff',
    '/mcp/%E0%A4%A',
    '/mcp/%c0%af',
    '/mcp/%00',
    '/mcp/%2e%2e/admin',
    '/mcp/healthy%2f..%2f..',
    '/mcp/%%',
    '/mcp/%u0041',
    '/%',
    '/v1/mcp/server/%',
    '/key/%zz',
  ];
  for (const b of bad) {
    for (const method of ['POST', 'GET', 'DELETE']) {
      add('bad percent-encoding', `${method} ${b}`, () =>
        send(gw.base, b, { method, headers: json, body: method === 'POST' ? rpc('ping') : undefined }),
      );
      add('bad percent-encoding', `${method} ${b} no key`, () =>
        send(gw.base, b, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? rpc('ping') : undefined }),
      );
    }
  }

  // Huge batches (max_batch_size: 50 by default) and odd ones.
  const ping = JSON.parse(rpc('ping')) as object;
  const call = JSON.parse(valid) as object;
  for (const p of paths) {
    for (const n of [51, 100, 1000, 10_000, 100_000])
      post('huge batches', `${n} pings`, p, JSON.stringify(Array.from({ length: n }, (_, i) => ({ ...ping, id: i }))));
    post('huge batches', '300 tools/call', p, JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ ...call, id: i }))));
    for (const b of ['[]', '[1,2,3]', '[null]', '[[]]', '["ping"]', `[${rpc('ping', undefined, 1)},${rpc('ping', undefined, 1)}]`])
      post('huge batches', `batch ${b.slice(0, 30)}`, p, b);
  }

  // Unknown servers.
  for (let i = 0; i < 30; i++) {
    const name = i % 3 === 0 ? randomBytes(6).toString('hex') : i % 3 === 1 ? `healthy${'x'.repeat(i * 100)}` : `HEALTHY-${i}`;
    post('unknown servers', `/mcp/${name.slice(0, 20)}`, `/mcp/${name}`, rpc('tools/list'));
  }

  // Bad keys.
  const keys = [
    '',
    'Bearer',
    'Bearer ',
    'Bearer sk-wrong',
    `Bearer ${gw.headers.authorization!.slice(7, -1)}`,
    'Basic Zm9vOmJhcg==',
    'bearer',
    `Bearer ${'a'.repeat(8000)}`,
    'Bearer sk-\u00e9',
  ];
  for (const p of [...paths, '/key/generate', '/v1/mcp/server', '/health/readiness']) {
    for (const k of keys) {
      const h: Record<string, string> = { ...json, authorization: k };
      if (!k) delete h.authorization;
      post('bad keys', `${p} "${k.slice(0, 20)}"`, p, rpc('tools/list'), h);
    }
    post('bad keys', `${p} x-litellm-api-key wrong`, p, rpc('tools/list'), {
      'content-type': 'application/json',
      'x-litellm-api-key': 'sk-wrong',
    });
  }
  add('bad keys', '64 KiB Authorization', () =>
    raw(port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'k'.repeat(65536)}\r\nContent-Length: 2\r\n\r\n{}`),
  );

  // Unknown session ids.
  const sids = [
    'deadbeef',
    randomBytes(16).toString('hex'),
    '',
    ' ',
    'a'.repeat(4000),
    '../../etc/passwd',
    `${session}x`,
    session.toUpperCase(),
    '%00',
    '__proto__',
  ];
  for (const p of paths) {
    for (const s of sids) {
      const h = { ...json, 'mcp-session-id': s };
      post('unknown session ids', `POST ${p} "${s.slice(0, 16)}"`, p, rpc('tools/list'), h);
      add('unknown session ids', `GET ${p} "${s.slice(0, 16)}"`, () =>
        send(gw.base, p, { method: 'GET', headers: { ...h, accept: 'text/event-stream' } }),
      );
      add('unknown session ids', `DELETE ${p} "${s.slice(0, 16)}"`, () => send(gw.base, p, { method: 'DELETE', headers: h }));
    }
  }

  // Random bytes, alone and after a plausible request line.
  for (let i = 0; i < 60; i++) add('random bytes', `${i}`, () => raw(port, randomBytes(1 + Math.floor(Math.random() * 4096))));
  for (let i = 0; i < 30; i++)
    add('random bytes', `after request line ${i}`, () =>
      raw(port, Buffer.concat([Buffer.from('POST /mcp HTTP/1.1\r\n'), randomBytes(1 + Math.floor(Math.random() * 2048))])),
    );
  for (let i = 0; i < 30; i++) post('random bytes', `as JSON body ${i}`, '/mcp', randomBytes(1 + Math.floor(Math.random() * 2048)));

  // HTTP oddities in the request-smuggling family.
  const b = rpc('ping');
  const head = `Host: 127.0.0.1\r\nAuthorization: ${key.authorization}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${sessions['/mcp']}\r\n`;
  const smuggle = [
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\nContent-Length: ${b.length + 5}\r\n\r\n${b}GPOST`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}, ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /health/readiness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked, identity\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding : chunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding:\tchunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: xchunked\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Transfer-Encoding: chunked\r\n\r\n${b.length.toString(16)};ext=${'e'.repeat(20000)}\r\n${b}\r\n0\r\n\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: -1\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: +${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: 0x${b.length.toString(16)}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: 99999999999999999999\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}X-Fold: a\r\n  folded\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\n${head.replace(/\r\n/g, '\n')}Content-Length: ${b.length}\n\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head.replace('Host: 127.0.0.1\r\n', '')}Content-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `POST http://169.254.169.254/mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.0\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/2.0\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/9.9\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'GET /mcp\r\n\r\n',
    `POST  /mcp  HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `PO\u0000ST /mcp HTTP/1.1\r\n${head}\r\n`,
    `POST /mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}POST /mcp HTTP/1.1\r\n${head}Content-Length: ${b.length}\r\n\r\n${b}`,
    `GET /health/readiness HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nHELLO`,
    `POST /mcp HTTP/1.1\r\n${head}Expect: 100-continue\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Expect: 999-bogus\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `POST /mcp HTTP/1.1\r\n${head}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    `${'A'.repeat(20000)} /mcp HTTP/1.1\r\n\r\n`,
    `POST /${'m'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
  ];
  for (const [i, s] of smuggle.entries()) add('smuggling-ish HTTP', `#${i} ${s.slice(0, 30).replace(/\r?\n/g, ' ')}`, () => raw(port, s));

  // 2026-07-28 requests whose header and body disagree, or that half-claim the new era.
  const modern = (method: string, params: Record<string, unknown>, version: unknown = '2026-07-28'): string =>
    rpc(method, {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': version,
        'io.modelcontextprotocol/clientInfo': { name: 'h', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    });
  const mh = (h: Record<string, string>): Record<string, string> => ({
    ...key,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...h,
  });
  for (const p of paths) {
    const cases: Array<[string, string, Record<string, string>]> = [
      [
        'header 2026, body 2025 initialize',
        rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } }),
        { 'mcp-protocol-version': '2026-07-28' },
      ],
      ['header 2025, body 2026', modern('tools/list', {}), { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/list' }],
      ['body 2026, no header', modern('tools/list', {}), {}],
      ['header 2026, body no _meta', rpc('tools/list', {}), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }],
      ['mcp-method mismatch', modern('tools/list', {}), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' }],
      ['mcp-method missing', modern('tools/list', {}), { 'mcp-protocol-version': '2026-07-28' }],
      [
        'mcp-name mismatch',
        modern('tools/call', { name: 'echo', arguments: { text: 'x' } }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'other' },
      ],
      [
        'mcp-name missing',
        modern('tools/call', { name: 'echo', arguments: { text: 'x' } }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' },
      ],
      [
        'mcp-name encoded oddly',
        modern('tools/call', { name: 'echo', arguments: { text: 'x' } }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': '=?base64?%%%?=' },
      ],
      [
        'unknown version 2099',
        modern('tools/list', {}, '2099-01-01'),
        { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
      ],
      ['version not a string', modern('tools/list', {}, 20260728), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }],
      ['version object', modern('tools/list', {}, { a: 1 }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }],
      ['header version garbage', modern('tools/list', {}), { 'mcp-protocol-version': 'x'.repeat(300), 'mcp-method': 'tools/list' }],
      ['2026 initialize', modern('initialize', {}), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'initialize' }],
      [
        '2026 with a session id',
        modern('tools/list', {}),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list', 'mcp-session-id': session },
      ],
      ['2026 prototype method', modern('__proto__', {}), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': '__proto__' }],
      [
        '2026 subscriptions/listen, bad params',
        modern('subscriptions/listen', { filter: 'str' }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      ],
      ['2026 batch', `[${modern('tools/list', {})}]`, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }],
      [
        '2026 capabilities wrong shape',
        rpc('tools/list', {
          _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': 'str' },
        }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      ],
      ['2026 server/discover', modern('server/discover', {}), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' }],
    ];
    for (const [label, body, h] of cases) {
      post('2026-07-28 mismatches', `${p} ${label}`, p, body, mh(h));
      post('2026-07-28 mismatches', `${p} ${label} (no key)`, p, body, { ...mh(h), authorization: '' });
    }
  }

  // Calls that reach the misbehaving upstream (each cycles to its next misbehaviour), and readiness after.
  for (let i = 0; i < 54; i++) {
    const p = i % 2 ? '/mcp/bad' : '/mcp';
    const name = p === '/mcp' ? 'bad-anything' : 'anything';
    if (i % 3 === 0) post('misbehaving upstream', `${p} tools/list ${i}`, p, rpc('tools/list'));
    else post('misbehaving upstream', `${p} tools/call ${i}`, p, rpc('tools/call', { name, arguments: { i } }));
  }
  for (let i = 0; i < 6; i++) add('misbehaving upstream', 'readiness, no key', () => send(gw.base, '/health/readiness', { method: 'GET' }));
  for (let i = 0; i < 6; i++)
    add('misbehaving upstream', 'readiness, master key', () => send(gw.base, '/health/readiness', { method: 'GET', headers: key }));

  // Management API junk, with the master key.
  const admin = { ...key, 'content-type': 'application/json' };
  const keyBodies = [
    '',
    'not json',
    '[]',
    '"str"',
    '1',
    'null',
    '{"models":1}',
    '{"max_budget":"lots"}',
    '{"max_budget":-1}',
    '{"duration":"zzz"}',
    '{"duration":"-1d"}',
    '{"rpm_limit":1e400}',
    `{"key_alias":"${'a'.repeat(200_000)}"}`,
    '{"metadata":"str"}',
    `{"metadata":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`,
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"team_id":"__proto__"}',
    '{"key":"sk-short"}',
    '{"key":"not-sk"}',
    '{"user_id":{"$ne":null}}',
    '{"models":["*"],"max_parallel_requests":"1; DROP TABLE keys"}',
    '{"expires":"yesterday"}',
    '{"guardrails":"str"}',
    '{"allowed_routes":[1,2]}',
  ];
  for (const body of keyBodies) post('management API junk', `/key/generate ${body.slice(0, 30)}`, '/key/generate', body, admin);
  const urls = [
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.169.254:80/mcp',
    'http://[::ffff:169.254.169.254]/mcp',
    'http://[fd00:ec2::254]/mcp',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://100.100.100.200/mcp',
    'http://2852039166/mcp',
    'http://0xa9fea9fe/mcp',
    'http://0251.0376.0251.0376/mcp',
    'http://127.0.0.1:22/mcp',
    'http://localhost/mcp',
    'http://0.0.0.0/mcp',
    'http://[::1]/mcp',
    'http://10.0.0.1/mcp',
    'http://user:pass@169.254.169.254/mcp',
    'http://169.254.169.254.nip.io/mcp',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'ftp://127.0.0.1/',
    'javascript:alert(1)',
    'not a url',
    '',
    'http://',
    `http://${'a'.repeat(300)}.example/mcp`,
  ];
  for (const [i, url] of urls.entries()) {
    const name = `ssrf${i}`;
    post(
      'management API junk',
      `POST /v1/mcp/server ${url.slice(0, 40)}`,
      '/v1/mcp/server',
      JSON.stringify({ server_name: name, url, transport: 'http' }),
      admin,
    );
    // If the store accepted it, the next call is where an SSRF would happen.
    post('management API junk', `tools/list through ${url.slice(0, 40)}`, `/mcp/${name}`, rpc('tools/list'));
  }
  const serverBodies = [
    '',
    '[]',
    '{"server_name":"__proto__","url":"http://127.0.0.1:1/mcp","transport":"http"}',
    '{"server_name":"x","transport":"stdio","command":"/bin/sh","args":["-c","id"]}',
    '{"server_name":"y","url":"http://127.0.0.1:1/mcp","transport":"ws"}',
    '{"server_name":"","url":"http://127.0.0.1:1/mcp"}',
    '{"server_name":"z","url":"http://127.0.0.1:1/mcp","env":{"LD_PRELOAD":"/tmp/x"}}',
    '{"server_name":"bad","url":"http://127.0.0.1:1/mcp","transport":"http"}',
    '{"server_name":"w","url":"http://127.0.0.1:1/mcp","auth_type":"bearer_token","auth_value":{"a":1}}',
  ];
  for (const body of serverBodies) post('management API junk', `/v1/mcp/server ${body.slice(0, 30)}`, '/v1/mcp/server', body, admin);
  for (const p of [
    '/key/info?key=%',
    '/key/info?key=__proto__',
    '/v1/mcp/server/__proto__',
    '/v1/mcp/server/%zz',
    '/v1/mcp/server/health?server_ids=__proto__,%,x',
    '/team/info?team_id=constructor',
  ]) {
    add('management API junk', `GET ${p}`, () => send(gw.base, p, { method: 'GET', headers: key }));
  }
  for (const p of ['/key/delete', '/key/update', '/team/new', '/user/new'])
    for (const body of ['[]', '"x"', '{"keys":"str"}', '{"key":{"a":1}}', '{"__proto__":1}'])
      post('management API junk', `${p} ${body}`, p, body, admin);

  return out;
}

// ---------------------------------------------------------------- measuring

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}
const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Opens a 2025 session at `path`; the one at /mcp/healthy carries the healthy probe. */
async function openSession(gw: Toolgate, path: string): Promise<string> {
  const h = {
    ...gw.headers,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  };
  const res = await request(gw.base + path, {
    method: 'POST',
    headers: h,
    body: rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } }, 0),
  });
  const text = await res.body.text();
  const sid = String(res.headers['mcp-session-id'] ?? '');
  if (res.statusCode !== 200 || !sid) throw new Error(`initialize at ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  await (
    await request(gw.base + path, {
      method: 'POST',
      headers: { ...h, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
  ).body.text();
  return sid;
}

/** A healthy tools/call: true only when the echoed text comes back. */
async function healthy(gw: Toolgate, session: string): Promise<boolean> {
  const text = `probe-${randomBytes(4).toString('hex')}`;
  const a = await send(gw.base, '/mcp/healthy', {
    headers: {
      ...gw.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': session,
    },
    body: rpc('tools/call', { name: 'echo', arguments: { text } }, 7),
  });
  return a.status === 200 && a.body.includes(text) && !a.body.includes('"error"');
}

/** Slow-header connections: a header byte every second; records when (if) the gateway closes each. */
function slowHeaders(port: number): Promise<number[]> {
  const line = 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'z'.repeat(200);
  return Promise.all(
    Array.from({ length: SLOW_CONNECTIONS }, () => {
      return new Promise<number>((resolve) => {
        const t0 = performance.now();
        const sock = net.connect({ host: '127.0.0.1', port });
        let i = 0;
        const tick = setInterval(() => {
          if (i < line.length) sock.write(line[i++]!);
        }, 1000);
        const end = (closed: boolean): void => {
          clearInterval(tick);
          clearTimeout(watch);
          sock.destroy();
          resolve(closed ? performance.now() - t0 : Infinity);
        };
        const watch = setTimeout(() => end(false), SLOW_WATCH_MS);
        sock.on('data', () => undefined);
        sock.on('close', () => end(true));
        sock.on('error', () => undefined);
      });
    }),
  );
}

const SECRETS = (gw: Toolgate): string[] => {
  const master = gw.headers.authorization!.slice('Bearer '.length);
  return [CANARY_HEALTHY, CANARY_BAD, master, Buffer.from(CANARY_BAD).toString('base64'), Buffer.from(CANARY_HEALTHY).toString('base64')];
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  const rounds = Math.max(1, Number(values.rounds));
  installCleanup();
  const started = new Date();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  buildToolgate();
  const fleet = await startEchoFleet(1, 1);
  const bad = await startMisbehaving();
  const dataDir = await mkdtemp(join(TMP, 'hostile-'));
  const gw = await startToolgate(
    'hostile',
    {
      healthy: { url: fleet.urls[0]!, transport: 'http', auth_type: 'bearer_token', auth_value: CANARY_HEALTHY },
      bad: { url: bad.url, transport: 'http', auth_type: 'bearer_token', auth_value: CANARY_BAD, timeout: 5 },
    } as never,
    { data_dir: dataDir },
  );
  const port = Number(new URL(gw.base).port);
  const pid = gw.proc.pid;
  // Every gateway output line from here on, checked for secrets at the end.
  const logLines: string[] = [];
  let partial = '';
  const onOut = (c: Buffer): void => {
    const text = partial + c.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop()!;
    logLines.push(...lines);
  };
  gw.proc.child.stdout?.on('data', onOut);
  gw.proc.child.stderr?.on('data', onOut);
  let exitCode: number | null | undefined;
  void gw.proc.exited.then((c) => (exitCode = c));

  const sessions: Record<string, string> = {};
  for (const p of ['/mcp', '/mcp/healthy', '/mcp/bad']) sessions[p] = await openSession(gw, p);
  const session = sessions['/mcp/healthy']!;
  if (!(await healthy(gw, session))) throw new Error(`the healthy probe fails before the run\n${gw.proc.tail()}`);
  await sleep(1000);
  const before = { rss: rssMiB(pid), fds: fds(pid) };

  const slow = slowHeaders(port);
  const inputs: Input[] = [];
  for (let r = 0; r < rounds; r++) inputs.push(...buildInputs(gw, port, sessions));
  const secrets = SECRETS(gw);
  const sent = new Map<string, number>();
  const classes = new Map<string, number>();
  const fivexx: string[] = [];
  const hangs: string[] = [];
  const errors: string[] = [];
  const openStreams: string[] = [];
  const exposed: string[] = [];
  /** Of `exposed`, those inside a successful JSON-RPC result (the upstream's own tool output). */
  let exposedInResults = 0;
  let probes = 0;
  let probeFailures = 0;
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length && exitCode === undefined) {
      const i = next++;
      const input = inputs[i]!;
      if (i % HEALTHY_EVERY === 0) {
        probes++;
        if (!(await healthy(gw, session))) probeFailures++;
      }
      const a = await input.send();
      sent.set(input.category, (sent.get(input.category) ?? 0) + 1);
      const cls = typeof a.status === 'number' ? `${String(a.status)[0]}xx` : a.status;
      classes.set(cls, (classes.get(cls) ?? 0) + 1);
      const where = `${input.category}: ${input.label}`;
      if (cls === '5xx') fivexx.push(`${where} → ${a.status} ${a.body.replace(/\s+/g, ' ').slice(0, 160)}`);
      if (cls === 'hang') hangs.push(where);
      if (cls === 'error') errors.push(`${where} → ${a.body.slice(0, 160)}`);
      if (a.open) openStreams.push(`${where} → HTTP ${a.status}, ${a.body.replace(/\s+/g, ' ').slice(0, 120)}`);
      const seen = a.body + a.headers;
      const hit = secrets.find((s) => seen.includes(s));
      if (hit) {
        const at = seen.indexOf(hit);
        const context = seen
          .slice(Math.max(0, at - 140), at + hit.length + 20)
          .split(hit)
          .join('<SECRET>');
        if (/^\s*\{"jsonrpc":"2\.0","id":[^,]*,"result"/.test(a.body)) exposedInResults++;
        exposed.push(`${where} → HTTP ${a.status}: …${context.replace(/\s+/g, ' ')}…`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const runS = (performance.now() - t0) / 1000;
  const slowClosed = await slow;
  const after = { rss: rssMiB(pid), fds: fds(pid) };
  await sleep(10_000);
  const idle = exitCode === undefined ? { rss: rssMiB(pid), fds: fds(pid) } : { rss: NaN, fds: NaN };
  const finalHealthy = exitCode === undefined && (await healthy(gw, session));
  const leakedLines = logLines.filter((l) => secrets.some((s) => l.includes(s)));
  const crashed = exitCode !== undefined;
  // Kept for reading the causes of 5xx answers; bench/tmp is not committed.
  writeFileSync(join(TMP, 'hostile-gateway.log'), logLines.join('\n'));
  await stopAll();
  bad.close();
  await agent.close();

  const closedTimes = slowClosed.filter(Number.isFinite).sort((a, b) => a - b);
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  const print: string[] = [];
  print.push(
    `Run ${started.toISOString()}, \`npx tsx bench/hostile.ts --rounds ${rounds}\`, load average at start ${load} (${runS.toFixed(0)} s of inputs, concurrency ${CONCURRENCY}).`,
    '',
  );
  print.push('| Inputs by category | sent |', '|---|---:|');
  for (const [c, n] of sent) print.push(`| ${c} | ${n} |`);
  print.push(`| **total** | **${total}** |`, '');
  print.push('| Measure | result |', '|---|---|');
  print.push(
    `| answers by class | ${[...classes]
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} |`,
  );
  print.push(`| 5xx | ${fivexx.length} |`);
  print.push(`| crashes (gateway exited) | ${crashed ? `yes, code ${exitCode}` : 0} |`);
  print.push(`| hangs (no answer in ${HANG_MS / 1000} s) | ${hangs.length} |`);
  print.push(`| SSE streams still open at ${HANG_MS / 1000} s (not counted as hangs) | ${openStreams.length} |`);
  print.push(`| client-side errors (connection reset before an answer) | ${errors.length} |`);
  print.push(
    `| slow-header connections closed by the gateway within ${SLOW_WATCH_MS / 1000} s | ${closedTimes.length} of ${SLOW_CONNECTIONS}${closedTimes.length ? ` (first at ${(closedTimes[0]! / 1000).toFixed(1)} s, last at ${(closedTimes.at(-1)! / 1000).toFixed(1)} s)` : ''} |`,
  );
  print.push(`| gateway RSS: before / after / after 10 s idle | ${before.rss} / ${after.rss} / ${idle.rss} MiB |`);
  print.push(`| gateway open fds: before / after / after 10 s idle | ${before.fds} / ${after.fds} / ${idle.fds} |`);
  print.push(
    `| healthy tools/call during the run (every ${HEALTHY_EVERY} inputs) | ${probes - probeFailures} of ${probes} answered correctly |`,
  );
  print.push(`| healthy tools/call after everything | ${finalHealthy ? 'answered correctly' : 'FAILED'} |`);
  print.push(
    `| responses containing a canary secret or the master key | ${exposed.length} (in error text or readiness: ${exposed.length - exposedInResults}; inside a successful tool result the upstream returned: ${exposedInResults}) |`,
  );
  print.push(`| gateway stdout/stderr lines containing one (of ${logLines.length}) | ${leakedLines.length} |`);
  print.push(`| misbehaving upstream answers given | ${[...bad.modes].map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  if (fivexx.length) print.push('', 'First 5xx answers:', '', ...fivexx.slice(0, 8).map((s) => `- ${s}`));
  if (hangs.length) print.push('', 'Hangs:', '', ...hangs.slice(0, 8).map((s) => `- ${s}`));
  if (openStreams.length) print.push('', 'Streams still open:', '', ...openStreams.slice(0, 8).map((x) => `- ${x}`));
  if (errors.length) print.push('', 'Client-side errors:', '', ...errors.slice(0, 8).map((x) => `- ${x}`));
  if (exposed.length) print.push('', 'Responses exposing a secret:', '', ...exposed.slice(0, 8).map((s) => `- ${s}`));
  if (leakedLines.length)
    print.push(
      '',
      'Log lines exposing a secret (secrets cut):',
      '',
      ...leakedLines.slice(0, 5).map((l) => `- ${secrets.reduce((t, s) => t.split(s).join('<SECRET>'), l).slice(0, 200)}`),
    );
  process.stdout.write(`${print.join('\n')}\n`);
}

await main();
