import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toolgate } from '../helpers/cli.js';

/** Every command the overview lists, read from `toolgate --help` so a new command is covered by adding it. */
async function commands(): Promise<string[]> {
  const r = await toolgate(['--help']);
  assert.equal(r.code, 0);
  const block = r.stdout.split('Commands:\n')[1]!.split('\n\n')[0]!;
  return block
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!)
    .filter((n) => n && !n.startsWith('-'));
}

describe('toolgate arguments', { concurrency: true }, () => {
  it('every command answers --help and -h with its usage on stdout, exit 0', async () => {
    const names = await commands();
    assert.ok(names.includes('start') && names.includes('check-config'), names.join(' '));
    await Promise.all(
      names.flatMap((name) =>
        ['--help', '-h'].map(async (flag) => {
          const r = await toolgate([name, flag]);
          assert.equal(r.code, 0, `${name} ${flag}: ${r.stderr}`);
          assert.match(r.stdout, new RegExp(`^Usage: toolgate ${name}`), `${name} ${flag}`);
          assert.equal(r.stderr, '');
        }),
      ),
    );
  });

  it('help wins even where it would otherwise be read as an option value', async () => {
    const r = await toolgate(['start', '--config', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: toolgate start/);
  });

  it('a missing value, an unknown option or a stray argument prints one line and the usage, exit 2, no stack', async () => {
    const cases: [string[], RegExp][] = [
      [['start', '--config'], /^toolgate start: option --config needs a value\n\nUsage: toolgate start/],
      [['start', '--nope'], /^toolgate start: unknown option --nope\n\nUsage: toolgate start/],
      [['start'], /^toolgate start: --config FILE is required\n\nUsage: toolgate start/],
      [['start', '--config', 'x.yaml', '--port', 'many'], /^toolgate start: --port must be 0\.\.65535 \(got many\)\n\nUsage:/],
      [['start', 'extra'], /^toolgate start: unexpected argument "extra"\n\nUsage:/],
      [['check-config'], /^toolgate check-config: name the config file\n\nUsage: toolgate check-config/],
      [['check-config', '-x'], /^toolgate check-config: unknown option -x\n\nUsage:/],
      [['frobnicate'], /^toolgate: unknown command "frobnicate"\n\n.*\n\nUsage: toolgate COMMAND/],
    ];
    await Promise.all(
      cases.map(async ([args, want]) => {
        const r = await toolgate(args);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, want, args.join(' '));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }),
    );
  });
});
