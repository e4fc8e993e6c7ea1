import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MAIN, ROOT } from './helpers/cli.js';
import { within } from './helpers/within.js';
import { readmeInspectorLines } from '../conformance/inspector.js';
import { INSPECTOR_VERSION } from '../conformance/runtime.js';

const run = promisify(execFile);
const DOC_URL = 'http://127.0.0.1:4000';

interface Block {
  heading: string;
  lang: string;
  text: string;
}

/** Every fenced code block of the README with the nearest heading above it, so the test follows the doc. */
async function readmeBlocks(): Promise<Block[]> {
  const text = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  let heading = '';
  const re = /^(#{2,3}) (.+)$|^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1]) heading = m[2]!;
    else blocks.push({ heading, lang: m[3]!, text: m[4]! });
  }
  return blocks;
}

/** The README's `npx tsx src/cli/main.ts` (toolgate from a checkout) as this process runs it. */
function asArgs(line: string): string[] {
  const prefix = 'npx tsx src/cli/main.ts ';
  assert.ok(line.startsWith(prefix), line);
  return ['--import', 'tsx', MAIN, ...line.slice(prefix.length).trim().split(/\s+/)];
}

describe('README', () => {
  let blocks: Block[];
  let child: ReturnType<typeof spawn> | undefined;
  let url: string;

  before(async () => {
    blocks = await readmeBlocks();
  });
  after(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  });

  it('quick start is exactly `npm ci && npm start` and `npm test`, and npm start serves the example', async () => {
    const quick = blocks.filter((b) => b.heading === 'Quick start').map((b) => b.text.trim());
    assert.deepEqual(quick, ['npm ci && npm start', 'npm test']);
    // npm ci already ran (it installed what runs this test); `npm start` runs as documented, on a free port.
    child = spawn('npm', ['start', '--', '--port', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    url = await within(
      new Promise<string>((resolve, reject) => {
        child!.stdout!.on('data', (d: string) => {
          out += d;
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        child!.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${out}`)));
      }),
      'npm start to listen',
      30_000,
    );
  });

  it('the "try it" curl commands answer as documented', async () => {
    const block = blocks.find((b) => b.heading === 'Try it with curl' && b.lang === 'sh');
    assert.ok(block, 'a curl block');
    const lines = block.text.trim().split('\n');
    assert.equal(lines.length, 2);
    const outputs: any[] = [];
    for (const line of lines) {
      const { stdout } = await run('sh', ['-c', line.replaceAll(DOC_URL, url).replace(/^curl /, 'curl -sS ')], {
        env: { PATH: process.env.PATH ?? '', TOOLGATE_API_KEY: 'sk-toolgate-dev' },
      });
      outputs.push(JSON.parse(stdout));
    }
    assert.ok(outputs[0].result.tools.some((t: { name: string }) => t.name === 'echo'));
    assert.equal(outputs[1].result.content[0].text, 'Echo: hi');
  });

  it('the inspector lines pin the release `npm run conformance` installs and runs them with', () => {
    const lines = readmeInspectorLines();
    assert.equal(lines.length, 2, 'a tools/list line and a tools/call line');
    for (const line of lines) {
      assert.ok(line.startsWith(`npx @modelcontextprotocol/inspector@${INSPECTOR_VERSION} --cli ${DOC_URL}/mcp`), line);
      assert.match(line, /--header "Authorization: Bearer \$TOOLGATE_API_KEY"/);
    }
  });

  it('each client section shows exactly what its connect command prints', async () => {
    const sections = new Map<string, Block[]>();
    for (const b of blocks) sections.set(b.heading, [...(sections.get(b.heading) ?? []), b]);
    const clients = ['Cursor', 'VS Code', 'Claude Desktop', 'Claude Code', 'Codex', 'Windsurf'];
    for (const title of clients) {
      const [cmd, shown] = sections.get(title) ?? [];
      assert.ok(cmd && shown && cmd.lang === 'sh', `section ${title} has a command and its output`);
      const { stdout } = await run(process.execPath, asArgs(cmd.text), { cwd: ROOT });
      // Absolute paths of this checkout and node stand as placeholders in the doc.
      const normalised = stdout
        .split(process.execPath)
        .join('node')
        .split(`file://${ROOT}`)
        .join('file:///path/to/toolgate/')
        .split(ROOT)
        .join('/path/to/toolgate/');
      assert.equal(shown.text, normalised, `README section ${title}`);
    }
  });
});
