/** A guard against hanging, not a timing assertion: what we wait for either comes or the test fails. */
export async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one polling helper: calls `probe` (sync or async) until it gives a value other than
 * `undefined`, `null` or `false`, and returns that value; fails naming `what` after `ms`. A probe
 * that throws is retried (what it polls may not be up yet) and its last error is reported.
 * Like `within`, a guard against hanging, never a timing assertion.
 */
export async function until<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  opts: { ms?: number; every?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.ms ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}` + (last instanceof Error ? ` (last error: ${last.message})` : ''));
    }
    await new Promise((r) => setTimeout(r, opts.every ?? 20));
  }
}
