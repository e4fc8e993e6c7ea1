/**
 * The floor for any gateway written in Node: node:http in, one undici keep-alive pool out, bodies piped
 * through unparsed, headers copied minus hop-by-hop ones. It separates what Node's HTTP stack costs from
 * what Toolgate's own work costs. Run as `node --import tsx bench/node-proxy.ts <upstream base URL>`; it
 * prints `listening <url>` once bound to 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const target = new URL(process.argv[2] ?? '');
const pool = new Pool(target.origin, { connections: 64, pipelining: 1 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

const server = http.createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  pool
    .request({
      method: req.method as 'POST',
      path: req.url ?? '/',
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    })
    .then((up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode, out);
      up.body.pipe(res);
    })
    .catch((err: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(err.message);
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
