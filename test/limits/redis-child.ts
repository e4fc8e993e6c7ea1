import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { until } from '../helpers/within.js';

/** A free 127.0.0.1 port (listen on 0, then let it go). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A redis-server of this test's own, to stop, stall and restart without touching the shared Redis:
 * no persistence, so a restart comes back empty (as a failed-over Redis would).
 */
export class RedisChild {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly password: string,
  ) {}

  static async start(password: string): Promise<RedisChild> {
    const r = new RedisChild(await freePort(), password);
    await r.restart();
    return r;
  }

  /** A client of the test's own (not the gateway's). */
  client(): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, password: this.password, lazyConnect: true, maxRetriesPerRequest: 0 });
  }

  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', this.password];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = this.client();
    try {
      await until(async () => {
        if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
        return (await probe.ping()) === 'PONG';
      }, 'the test redis-server to answer');
    } finally {
      probe.disconnect();
    }
  }

  /** Gone: killed, as a crashed Redis. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stalled: the connection stays open and nothing answers. */
  stall(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }
}
