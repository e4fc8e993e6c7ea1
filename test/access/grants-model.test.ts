import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAccess } from '../../src/caller/grants.js';
import { genCase, modelAllows, rng, TOOLS } from './model.js';

function implAllows(access: ReturnType<typeof computeAccess>, server: string, tool: string): boolean {
  if (access.servers && !access.servers.has(server)) return false;
  const t = access.tools?.get(server);
  return t === undefined || t.has(tool);
}

test('computeAccess agrees with the reference model on 12,000 generated combinations', () => {
  const r = rng(20261201);
  let checked = 0;
  for (let i = 0; i < 12_000; i++) {
    const c = genCase(r);
    const access = computeAccess(c.levels, c.servers, c.rules);
    for (const s of c.servers) {
      for (const t of TOOLS) {
        const want = modelAllows(c, s, t);
        const got = implAllows(access, s.name, t);
        if (want !== got) assert.fail(`case ${i}: server ${s.name} tool ${t}: model ${want}, computeAccess ${got}\n${JSON.stringify(c)}`);
        checked++;
      }
    }
    // Never a server outside the configured set.
    for (const name of access.servers ?? [])
      assert.ok(
        c.servers.some((s) => s.name === name),
        `case ${i}: unknown ${name}`,
      );
  }
  assert.ok(checked > 100_000);
});

test('fingerprints are equal exactly when access is equal', () => {
  const r = rng(7);
  const seen = new Map<string, string>();
  for (let i = 0; i < 3000; i++) {
    const c = genCase(r);
    const a = computeAccess(c.levels, c.servers, c.rules);
    const describe = JSON.stringify([
      a.servers ? [...a.servers].sort() : null,
      a.tools ? [...a.tools].map(([k, v]) => [k, [...v].sort()]).sort() : null,
    ]);
    const prior = seen.get(a.fingerprint);
    if (prior !== undefined) assert.equal(prior, describe, `fingerprint ${a.fingerprint} shared by different access`);
    seen.set(a.fingerprint, describe);
  }
});
