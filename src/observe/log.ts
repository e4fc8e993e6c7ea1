import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The gateway's structured logger. Nothing secret is ever passed to it; the redact list is a second
 * line of defence for header objects that might slip into a log call.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.TOOLGATE_LOG_LEVEL ?? 'info';
  const options = {
    level,
    base: undefined,
    redact: {
      paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["x-litellm-api-key"]', '*.authorization', '*.auth_value'],
      censor: '[redacted]',
    },
  };
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

/** A logger that drops everything, for library use and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
