import { until as poll } from '../helpers/within.js';

/** test/helpers/within.ts's one polling helper, with the argument order and 30 s bound these tests read best with. */
export function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  return poll(check, what, { ms, every: 50 }).then(() => undefined);
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
