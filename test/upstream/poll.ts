/**
 * Polls until `check` holds. The deadline guards against hanging; it is not a timing assertion.
 * (test/helpers/within.ts guards one promise; this waits for a condition that no event announces.)
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A 2025-era initialize request body with these client capabilities. */
export function initializeBody(capabilities: Record<string, unknown>): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'hostile', version: '1' } },
  });
}
