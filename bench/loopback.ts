/**
 * Preloaded into peers that cannot be told which address to bind (supergateway listens on every interface):
 * a listen() without a host is pinned to 127.0.0.1, so the benchmark never opens a port beyond loopback.
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (typeof first === 'object' && first !== null && !('host' in first) && !('path' in first) && !('fd' in first)) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;
