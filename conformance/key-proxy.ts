/**
 * The suite's `server` command has no option to send a header (its only environment input is
 * GITHUB_TOKEN, for tier-check), yet Toolgate requires its key. This loopback proxy adds
 * `Authorization: Bearer <key>` and otherwise relays each request byte for byte, Host and Origin
 * included, so the gateway's own DNS-rebinding checks are still what the suite measures.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface KeyProxy {
  port: number;
  close(): Promise<void>;
}

export async function startKeyProxy(targetPort: number, key: string): Promise<KeyProxy> {
  const server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers };
    if (headers.authorization === undefined) headers.authorization = `Bearer ${key}`;
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`key proxy: ${err.message}`);
    });
    // A client closing its stream (SSE cancel) must reach the gateway as a closed connection.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
