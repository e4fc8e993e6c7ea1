import { pino, type Logger } from 'pino';
import { textDestination } from './log-text.js';

export type { Logger };

/**
 * The gateway's structured logger. Nothing secret is ever passed to it; the redact list is a second
 * line of defence for header objects that might slip into a log call. Lines are text when the
 * destination (stdout by default) is a terminal, JSON otherwise; `isTTY` overrides the check.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; isTTY?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.TOOLGATE_LOG_LEVEL ?? 'info';
  const options = {
    level,
    base: undefined,
    redact: {
      paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["x-litellm-api-key"]', '*.authorization', '*.auth_value'],
      censor: '[redacted]',
    },
  };
  const out = opts.destination ?? process.stdout;
  // Readable text for a person at a terminal, JSON for everything else (files, pipes, log shippers).
  if (opts.isTTY ?? (out as { isTTY?: boolean }).isTTY === true) return pino(options, textDestination(out));
  return pino(options, opts.destination ? (opts.destination as pino.DestinationStream) : stdoutDestination());
}

/**
 * Buffered, asynchronous stdout: one write syscall per request line was the largest JavaScript-side self time on
 * the tools/call path (bench/findings.md). Lines are batched up to 4 KiB and flushed at least every 100 ms; pino
 * flushes this destination synchronously on exit, so no line is lost at shutdown.
 */
function stdoutDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 } as Parameters<typeof pino.destination>[0]);
}

/** A logger that drops everything, for library use and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
