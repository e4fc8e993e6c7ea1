import { isObject } from './jsonrpc.js';

/** Which declared client capability each kind of server-to-client (input) request needs. */
export const INPUT_CAPABILITY: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * The capabilities an `inputRequests` map needs that the client did not declare, shaped like
 * ClientCapabilities (for -32021's `requiredCapabilities`); undefined when nothing is missing.
 */
export function missingCapabilities(inputRequests: unknown, declared: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!isObject(inputRequests)) return undefined;
  const missing: Record<string, unknown> = {};
  for (const r of Object.values(inputRequests)) {
    const cap =
      isObject(r) && typeof r.method === 'string' && Object.hasOwn(INPUT_CAPABILITY, r.method) ? INPUT_CAPABILITY[r.method] : undefined;
    if (cap && !isObject(declared[cap])) missing[cap] = {};
  }
  return Object.keys(missing).length ? missing : undefined;
}
