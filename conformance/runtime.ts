/**
 * The conformance suite needs Node 22 (it imports `fs.globSync`); the project runs on Node 20.
 * Both come from npm into conformance/.runtime, a git-ignored package of its own, so the
 * project's node_modules never receives node@22.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
export const NODE_VERSION = '22.23.3';
/** The MCP inspector the README pins (its CLI needs Node 22.19 or newer); `npm run conformance` runs the README's lines with it. */
export const INSPECTOR_VERSION = '2.12.0';

export const CONFORMANCE_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = join(CONFORMANCE_DIR, '..');
const RUNTIME_DIR = join(CONFORMANCE_DIR, '.runtime');
const SUITE_DIR = join(RUNTIME_DIR, 'node_modules', '@modelcontextprotocol', 'conformance');
const INSPECTOR_DIR = join(RUNTIME_DIR, 'node_modules', '@modelcontextprotocol', 'inspector');

export interface SuiteRuntime {
  node: string;
  cli: string;
  /** Where `node` (22) and the pinned inspector's `npx` bin live: first on PATH for the README's inspector lines. */
  dir: string;
  binDir: string;
  /** The frozen requirement set of a spec revision, as shipped in the installed suite. */
  requirements(revision: string): { scored: string[]; notScored: Map<string, string> };
}

function installedVersion(pkgDir: string): string | undefined {
  const file = join(pkgDir, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version : undefined;
}

/** Installs the pinned suite and Node 22 when missing or at another version; idempotent. */
export function ensureRuntime(log: (line: string) => void): SuiteRuntime {
  const node = join(RUNTIME_DIR, 'node_modules', '.bin', 'node');
  const wanted =
    installedVersion(SUITE_DIR) === CONFORMANCE_VERSION &&
    installedVersion(INSPECTOR_DIR) === INSPECTOR_VERSION &&
    existsSync(node) &&
    nodeVersion(node) === `v${NODE_VERSION}`;
  if (!wanted) {
    log(
      `installing @modelcontextprotocol/conformance@${CONFORMANCE_VERSION}, @modelcontextprotocol/inspector@${INSPECTOR_VERSION} and node@${NODE_VERSION} into conformance/.runtime (npm)`,
    );
    mkdirSync(RUNTIME_DIR, { recursive: true });
    const pkg = join(RUNTIME_DIR, 'package.json');
    if (!existsSync(pkg)) writeFileSync(pkg, `${JSON.stringify({ name: 'toolgate-conformance-runtime', private: true }, null, 2)}\n`);
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        RUNTIME_DIR,
        '--no-audit',
        '--no-fund',
        '--save-exact',
        `node@${NODE_VERSION}`,
        `@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`,
        `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (nodeVersion(node) !== `v${NODE_VERSION}`)
      throw new Error(`conformance/.runtime: node@${NODE_VERSION} did not install a working ${node}`);
  }
  return {
    node,
    cli: join(SUITE_DIR, 'dist', 'index.js'),
    dir: RUNTIME_DIR,
    binDir: join(RUNTIME_DIR, 'node_modules', '.bin'),
    requirements(revision) {
      const doc = parse(readFileSync(join(SUITE_DIR, 'requirements', `${revision}.yaml`), 'utf8')) as {
        server?: string[];
        not_scored?: { scenario: string; leg: string; reason: string }[];
      };
      const notScored = new Map((doc.not_scored ?? []).filter((e) => e.leg === 'server').map((e) => [e.scenario, e.reason]));
      return { scored: doc.server ?? [], notScored };
    },
  };
}

function nodeVersion(node: string): string | undefined {
  if (!existsSync(node)) return undefined;
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
