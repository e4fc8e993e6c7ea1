/**
 * Budget periods in LiteLLM's `budget_duration` forms: a whole number and a unit, `s`, `m`, `h`,
 * `d`, `w` or `mo` (calendar months): `30s`, `1h`, `1d`, `30d`, `1mo`.
 * The next reset is one period after the previous one (or after the first call of a period).
 */
const FORM = /^(\d+)\s*(s|m|h|d|w|mo)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Epoch ms one period after `from`; undefined when `duration` is not a budget duration. */
export function nextReset(duration: unknown, from: number): number | undefined {
  if (typeof duration !== 'string') return undefined;
  const m = FORM.exec(duration.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n <= 0) return undefined;
  const unit = m[2] as keyof typeof UNIT_MS | 'mo';
  if (unit === 'mo') {
    // The same day n months on, or the last day of a shorter month (January 31 + 1mo: February 28).
    const d = new Date(from);
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + n);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
    return d.getTime();
  }
  return from + n * UNIT_MS[unit];
}
