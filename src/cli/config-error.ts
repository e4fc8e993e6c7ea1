import { ConfigError } from '../config/load.js';

/** A ConfigError as the CLI prints it (exit 1); anything else is a bug and propagates. */
export function reportConfigError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`toolgate: invalid configuration\n${err.message}\n`);
    return 1;
  }
  throw err;
}
