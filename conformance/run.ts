/**
 * `npm run conformance`: the official MCP conformance suite's server scenarios, for both spec
 * revisions, directly against our fixture server and through Toolgate in front of it, side by side.
 *
 *   --gateway auto|on|off   auto (default): through Toolgate when src/cli/main.ts exists
 *   --requirements A,B      revisions to run (default 2025-11-25,2026-07-28)
 *
 * Exits 1 when a scored scenario fails directly, or a scenario that passes directly fails through
 * Toolgate, unless conformance/expected-failures.yml lists it with a reason.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { startConformanceServer } from '../test/fixtures/conformance-server.js';
import { gatewayPresent, startGateway, type RunningGateway } from './gateway.js';
import { checkReadmeInspector } from './inspector.js';
import { CONFORMANCE_DIR, CONFORMANCE_VERSION, REPO_ROOT, ensureRuntime } from './runtime.js';
import { runSuite, type ScenarioResult, type ScenarioResults } from './suite.js';

type Leg = 'direct' | 'toolgate';

interface ExpectedFailure {
  requirements: string;
  scenario: string;
  leg: Leg;
  reason: string;
}

interface RevisionReport {
  revision: string;
  scored: string[];
  notScored: Record<string, string>;
  direct: Record<string, ScenarioResult>;
  toolgate?: Record<string, ScenarioResult>;
}

function loadExpectedFailures(): ExpectedFailure[] {
  const file = join(CONFORMANCE_DIR, 'expected-failures.yml');
  const doc = parse(readFileSync(file, 'utf8')) as { expected_failures?: ExpectedFailure[] } | null;
  const entries = doc?.expected_failures ?? [];
  for (const e of entries) {
    if (!e.requirements || !e.scenario || (e.leg !== 'direct' && e.leg !== 'toolgate') || !e.reason?.trim()) {
      throw new Error(
        `${relative(REPO_ROOT, file)}: every entry needs requirements, scenario, leg (direct|toolgate) and a reason: ${JSON.stringify(e)}`,
      );
    }
  }
  return entries;
}

function cell(r: ScenarioResult | undefined): string {
  if (!r) return '—';
  return `${r.failed === 0 ? 'pass' : 'FAIL'} ${r.passed}/${r.failed}${r.warnings > 0 ? ` w${r.warnings}` : ''}`;
}

function totals(results: ScenarioResults | undefined, names: string[]): string {
  if (!results) return '—';
  let ok = 0;
  let passed = 0;
  let failed = 0;
  for (const name of names) {
    const r = results.get(name);
    if (!r) continue;
    if (r.failed === 0) ok += 1;
    passed += r.passed;
    failed += r.failed;
  }
  return `${ok}/${names.length} scenarios, ${passed} passed, ${failed} failed`;
}

function printTable(
  revision: string,
  scored: string[],
  notScored: Map<string, string>,
  direct: ScenarioResults,
  toolgate?: ScenarioResults,
) {
  const names = [...scored, ...[...notScored.keys()].filter((n) => !scored.includes(n))];
  const label = (n: string) => (notScored.has(n) ? `${n} (not scored: ${notScored.get(n)})` : n);
  const width = Math.max(...names.map((n) => label(n).length)) + 2;
  const row = (a: string, b: string, c: string) => console.log(`${a.padEnd(width)}${b.padEnd(16)}${c}`);
  console.log(`\n== --requirements ${revision} (conformance ${CONFORMANCE_VERSION}; cells: verdict passed/failed checks, wN = N warnings)`);
  row('scenario', 'direct', 'through Toolgate');
  for (const name of names) row(label(name), cell(direct.get(name)), toolgate ? cell(toolgate.get(name)) : '—');
  console.log(`scored:     direct ${totals(direct, scored)} | Toolgate ${totals(toolgate, scored)}`);
  const extra = [...notScored.keys()];
  console.log(`not scored: direct ${totals(direct, extra)} | Toolgate ${totals(toolgate, extra)}`);
  // One line per reason (the tasks extension, pending, ...), so the extension's own score stays visible.
  const reasons = [...new Set(notScored.values())];
  if (reasons.length > 1) {
    const pad = Math.max(...reasons.map((r) => r.length)) + 2;
    for (const reason of reasons) {
      const group = extra.filter((n) => notScored.get(n) === reason);
      console.log(`  ${`${reason}:`.padEnd(pad)}direct ${totals(direct, group)} | Toolgate ${totals(toolgate, group)}`);
    }
  }
}

/** The failures that should fail the run, given what is expected. */
function judge(report: RevisionReport, expected: ExpectedFailure[]): string[] {
  const listed = (scenario: string, leg: Leg) =>
    expected.some((e) => e.requirements === report.revision && e.scenario === scenario && e.leg === leg);
  const problems: string[] = [];
  for (const [scenario, r] of Object.entries(report.direct)) {
    if (r.failed > 0 && report.scored.includes(scenario) && !listed(scenario, 'direct')) {
      problems.push(`${report.revision} ${scenario}: fails directly against the fixture — ${r.failures.join('; ')}`);
    }
  }
  if (report.toolgate) {
    for (const [scenario, d] of Object.entries(report.direct)) {
      const t = report.toolgate[scenario];
      const added = d.failed === 0 && (!t || t.failed > 0);
      if (added && !listed(scenario, 'toolgate')) {
        problems.push(
          `${report.revision} ${scenario}: Toolgate adds a failure — ${t ? t.failures.join('; ') : 'no result through Toolgate'}`,
        );
      }
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { gateway: { type: 'string', default: 'auto' }, requirements: { type: 'string', default: '2025-11-25,2026-07-28' } },
  });
  const mode = values.gateway;
  if (mode !== 'auto' && mode !== 'on' && mode !== 'off') throw new Error(`--gateway must be auto, on or off (got ${mode})`);
  const revisions = values.requirements
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const expected = loadExpectedFailures();
  const runtime = ensureRuntime((line) => console.log(line));

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outRoot = join(CONFORMANCE_DIR, 'results', stamp);
  mkdirSync(outRoot, { recursive: true });

  const fixture = await startConformanceServer();
  let gateway: RunningGateway | undefined;
  let gatewayNote = 'not requested (--gateway off)';
  const problems: string[] = [];
  try {
    if (mode === 'on' || (mode === 'auto' && gatewayPresent())) {
      try {
        gateway = await startGateway(fixture.url);
        gatewayNote = `${gateway.url} (key added by the loopback key proxy)`;
      } catch (err) {
        gatewayNote = `failed to start: ${(err as Error).message}`;
        problems.push(`Toolgate did not start: ${(err as Error).message}`);
      }
    } else if (mode === 'auto') {
      gatewayNote = 'skipped: src/cli/main.ts does not exist yet';
    }
    console.log(`fixture: ${fixture.url}\nToolgate: ${gatewayNote}`);

    const reports: RevisionReport[] = [];
    for (const revision of revisions) {
      const { scored, notScored } = runtime.requirements(revision);
      const direct = await runSuite(runtime, fixture.url, revision, join(outRoot, `direct-${revision}`));
      const toolgate = gateway ? await runSuite(runtime, gateway.url, revision, join(outRoot, `toolgate-${revision}`)) : undefined;
      printTable(revision, scored, notScored, direct, toolgate);
      const report: RevisionReport = {
        revision,
        scored,
        notScored: Object.fromEntries(notScored),
        direct: Object.fromEntries(direct),
        toolgate: toolgate && Object.fromEntries(toolgate),
      };
      reports.push(report);
      problems.push(...judge(report, expected));
    }
    const summary = join(CONFORMANCE_DIR, 'results', `${stamp}.json`);
    writeFileSync(
      summary,
      `${JSON.stringify({ conformance: CONFORMANCE_VERSION, fixture: fixture.url, gateway: gatewayNote, reports }, null, 2)}\n`,
    );
    console.log(`\nresults: ${relative(REPO_ROOT, summary)} (suite output under ${relative(REPO_ROOT, outRoot)}/)`);
  } finally {
    await gateway?.stop();
    await fixture.stop();
  }
  if (gateway || mode === 'on') problems.push(...(await checkReadmeInspector(runtime)));
  for (const p of problems) console.log(`✗ ${p}`);
  console.log(problems.length === 0 ? 'conformance: OK' : `conformance: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
