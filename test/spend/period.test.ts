import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextReset } from '../../src/policy/spend/period.js';

describe('budget_duration periods', () => {
  const from = Date.parse('2026-01-31T10:00:00Z');

  it("LiteLLM's forms: seconds, minutes, hours, days, weeks", () => {
    assert.equal(nextReset('30s', from), from + 30_000);
    assert.equal(nextReset('30m', from), from + 30 * 60_000);
    assert.equal(nextReset('1h', from), from + 3_600_000);
    assert.equal(nextReset('30d', from), from + 30 * 86_400_000);
    assert.equal(nextReset('2w', from), from + 14 * 86_400_000);
    assert.equal(nextReset(' 1d ', from), from + 86_400_000);
  });

  it('mo is a calendar month, ending on the last day of a shorter one', () => {
    assert.equal(new Date(nextReset('1mo', from)!).toISOString(), '2026-02-28T10:00:00.000Z');
    assert.equal(new Date(nextReset('2mo', from)!).toISOString(), '2026-03-31T10:00:00.000Z');
    assert.equal(new Date(nextReset('12mo', Date.parse('2026-05-01T00:00:00Z'))!).toISOString(), '2027-05-01T00:00:00.000Z');
  });

  it('no period for anything else (the level then never resets)', () => {
    for (const d of [undefined, null, '', '0d', '1y', 'daily', '1.5h', 5]) assert.equal(nextReset(d, from), undefined, String(d));
  });
});
