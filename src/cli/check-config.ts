import { loadConfig } from '../config/load.js';
import { str, UsageError, type Command } from './command.js';
import { reportConfigError } from './config-error.js';

export const command: Command = {
  name: 'check-config',
  usage: `toolgate check-config FILE

  Reads FILE, prints what would run (secrets masked) and every warning; starts nothing.`,
  options: { config: { type: 'string', short: 'c' } },
  maxPositionals: 1,
  async run(args) {
    const file = str(args, 'config') ?? args.positionals[0];
    if (!file) throw new UsageError('name the config file');
    try {
      const { describeConfig } = await import('../config/describe.js');
      console.log(describeConfig(loadConfig(file)));
      return 0;
    } catch (err) {
      return reportConfigError(err);
    }
  },
};
