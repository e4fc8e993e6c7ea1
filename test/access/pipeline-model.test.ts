import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller } from '../../src/caller/caller.js';
import type { KeyRecord } from '../../src/caller/identity.js';
import { IdentitySnapshot } from '../../src/caller/snapshot.js';
import { PolicyStage } from '../../src/policy/stage.js';
import { server, source } from '../helpers/server-source.js';
import { genCase, modelAllows, rng, TOOLS } from './model.js';

/**
 * The whole access decision as the request path makes it, on generated combinations: stored key, team,
 * user and organization records resolved by the identity snapshot, then the policy stage with each
 * server's own allowed_tools / disallowed_tools. For every caller and tool, "listed" (the listing
 * filter) equals "callable" (the call decision), and both equal the reference model.
 */
test('listed equals callable equals the model, through the snapshot and the policy stage, on 10,000 combinations', () => {
  const r = rng(20261202);
  let checked = 0;
  let listedSome = 0;
  for (let i = 0; i < 10_000; i++) {
    const c = genCase(r);
    const configs = c.servers.map((s) => {
      const allowed = r() < 0.25 ? TOOLS.filter(() => r() < 0.6) : undefined;
      const disallowed = r() < 0.25 ? TOOLS.filter(() => r() < 0.4) : undefined;
      return server(s.name, {
        accessGroups: [...s.accessGroups],
        allowAllKeys: s.allowAllKeys,
        allowedTools: allowed,
        disallowedTools: disallowed,
      });
    });
    const snapshot = new IdentitySnapshot(c.servers, c.rules);
    const key: KeyRecord = { token: `t${i}`, keyName: 'sk-...test', blocked: false, objectPermission: c.levels.key };
    if (c.levels.team) key.teamId = 'team';
    if (c.levels.user) key.userId = 'user';
    if (c.levels.organization) key.organizationId = 'org';
    snapshot.load({
      keys: [key],
      teams: c.levels.team ? [{ teamId: 'team', blocked: false, objectPermission: c.levels.team }] : [],
      users: c.levels.user ? [{ userId: 'user', userRole: 'internal_user', objectPermission: c.levels.user }] : [],
      organizations: c.levels.organization ? [{ organizationId: 'org', objectPermission: c.levels.organization }] : [],
    });
    const caller = snapshot.authenticate(key.token) as Caller;
    assert.ok('keyId' in caller, `case ${i}: the key resolves`);
    const policy = new PolicyStage(source(configs), '-');
    for (const cfg of configs) {
      const access = c.servers.find((s) => s.name === cfg.name)!;
      const listed = new Set(
        policy
          .filter(
            caller,
            cfg.name,
            'tool',
            TOOLS.map((name) => ({ name })),
          )
          .map((t) => t.name),
      );
      for (const tool of TOOLS) {
        // An empty allowed_tools is unset (LiteLLM), not "nothing allowed".
        const own = (!cfg.allowedTools?.length || cfg.allowedTools.includes(tool)) && !cfg.disallowedTools?.includes(tool);
        const want = own && modelAllows(c, access, tool);
        const callable = policy.decide(caller, { server: cfg.name, kind: 'tool', name: tool, arguments: {} }) === undefined;
        if (listed.has(tool) !== callable || callable !== want) {
          assert.fail(
            `case ${i}: ${cfg.name}/${tool}: listed ${listed.has(tool)}, callable ${callable}, model ${want}\n${JSON.stringify({ c, configs })}`,
          );
        }
        if (want) listedSome++;
        checked++;
      }
    }
  }
  assert.ok(checked > 80_000, `checked ${checked}`);
  // The generator must produce both outcomes in numbers, or the agreement proves little.
  assert.ok(listedSome > checked / 10 && listedSome < (checked * 9) / 10, `allowed ${listedSome} of ${checked}`);
});
