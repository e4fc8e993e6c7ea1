import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { Redactor } from './redact.js';
import { UpstreamError, type TransportHandlers, type TransportLog, type UpstreamTransport } from './transport.js';

export interface StdioOptions {
  command: string;
  args: string[];
  /** The child's environment, on top of the few variables every program needs (PATH, HOME). */
  env: Record<string, string>;
  serverName: string;
  cwd?: string;
  log?: TransportLog;
  /** The child's stderr and stray output may print its env secrets: masked before they are logged. */
  redactor?: Redactor;
}

/** What a child inherits from the gateway: enough to find programs and its home, never the gateway's secrets. */
const INHERITED_ENV =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'USERNAME',
        'USERPROFILE',
        'PROGRAMFILES',
      ]
    : ['PATH', 'HOME'];

/** A line longer than this without a newline is not MCP; it is dropped rather than grown without bound. */
const MAX_LINE_CHARS = 10 * 1024 * 1024;
const KILL_AFTER_MS = 2_000;
const STDOUT_GRACE_MS = 200;

export function childEnv(configured: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return Object.assign(env, configured);
}

/** Newline-delimited JSON-RPC over a child's stdin/stdout; its stderr goes to the log, line by line. */
export class StdioTransport implements UpstreamTransport {
  readonly kind = 'stdio' as const;
  private child?: ChildProcess;
  private handlers?: TransportHandlers;
  private closing = false;
  private exited = false;

  constructor(private readonly opts: StdioOptions) {}

  /** The child's pid while it runs. */
  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    if (this.child) throw new UpstreamError('protocol', `stdio server "${this.opts.serverName}" already started`);
    this.handlers = handlers;
    const { command, args, cwd, serverName } = this.opts;
    const child = spawn(command, args, { env: childEnv(this.opts.env), cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    try {
      await once(child, 'spawn');
    } catch (err) {
      this.exited = true;
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'command not found (is it installed and on PATH?)' : (err as Error).message;
      throw new UpstreamError('unreachable', `stdio server "${serverName}": cannot run "${command}": ${why}`);
    }
    child.on('error', (err) => this.opts.log?.warn({ server: serverName, err: err.message }, 'stdio server process error'));
    // A child that dies mid-write makes stdin emit EPIPE; the exit handler reports the real cause.
    child.stdin!.on('error', () => {});
    this.readLines(child.stdout!, (line) => this.onLine(line));
    this.readLines(child.stderr!, (line) => this.onStderr(line));
    child.once('exit', (code, signal) => {
      this.exited = true;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      // Let the last lines of stdout arrive first, without waiting on a grandchild that may hold the pipe open.
      const report = (): void => {
        clearTimeout(grace);
        if (!this.closing) this.handlers?.onclose(new UpstreamError('closed', `stdio server "${serverName}" ${how}`));
      };
      const grace = setTimeout(report, STDOUT_GRACE_MS);
      if (child.stdout!.readableEnded) report();
      else child.stdout!.once('end', report);
    });
  }

  private readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      let start: number;
      let nl = chunk.indexOf('\n');
      if (nl === -1) {
        buffered += chunk;
      } else {
        onLine(buffered + chunk.slice(0, nl));
        buffered = '';
        start = nl + 1;
        while ((nl = chunk.indexOf('\n', start)) !== -1) {
          onLine(chunk.slice(start, nl));
          start = nl + 1;
        }
        buffered = chunk.slice(start);
      }
      if (buffered.length > MAX_LINE_CHARS) {
        this.opts.log?.warn({ server: this.opts.serverName, chars: buffered.length }, 'stdio server wrote an over-long line; dropped');
        buffered = '';
      }
    });
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    let msg: unknown;
    try {
      // The child's credentials (secret-named env values) masked first: it may echo them in a result too.
      msg = JSON.parse(this.opts.redactor ? this.opts.redactor.redactCredentials(line) : line);
    } catch {
      this.warn(
        { server: this.opts.serverName, line: this.clean(line).slice(0, 200) },
        'stdio server wrote a line that is not JSON; ignored',
      );
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.warn(
        { server: this.opts.serverName, line: this.clean(line).slice(0, 200) },
        'stdio server wrote JSON that is not a message; ignored',
      );
      return;
    }
    try {
      this.handlers?.onmessage(msg as JsonRpcMessage);
    } catch (err) {
      this.warn({ server: this.opts.serverName, err: (err as Error).message }, 'upstream message handler threw');
    }
  }

  private onStderr(raw: string): void {
    const line = this.opts.redactor ? this.opts.redactor.redact(raw) : raw;
    if (this.opts.log) this.opts.log.info({ server: this.opts.serverName, stream: 'stderr' }, line);
    else console.error(`[${this.opts.serverName}] ${line}`);
  }

  private clean(text: string): string {
    return this.opts.redactor ? this.opts.redactor.redact(text) : text;
  }

  private warn(obj: object, msg: string): void {
    if (this.opts.log) this.opts.log.warn(obj, msg);
    else console.error(msg, obj);
  }

  setProtocolVersion(): void {
    // stdio carries no version header.
  }

  send(msg: JsonRpcMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.exited || this.closing || !stdin.writable) {
      return Promise.reject(new UpstreamError('closed', `stdio server "${this.opts.serverName}" is not running`));
    }
    return new Promise((resolve, reject) => {
      stdin.write(JSON.stringify(msg) + '\n', (err) => {
        if (err) reject(new UpstreamError('closed', `stdio server "${this.opts.serverName}": write failed: ${err.message}`));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (this.closing || !child) return;
    this.closing = true;
    if (this.exited) return;
    const exited = once(child, 'exit');
    child.stdin?.end();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    await exited;
    clearTimeout(killer);
  }
}
