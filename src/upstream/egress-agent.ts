import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { checkAddress, EgressRefused, systemResolver, vetHost, type Allowlist, type Resolver } from './egress.js';

/**
 * The connect-time half of the SSRF guard: an undici Agent for API-registered servers whose every
 * new connection resolves its host through `vetHost` and connects only to the addresses it admitted.
 * A name that passed at registration and resolves to a metadata address later (DNS rebinding, a
 * changed record) is refused here, and the refusal becomes the upstream's "unreachable" error.
 */
export function guardedLookup(allow: Allowlist, resolve: Resolver = systemResolver): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
    vetHost(hostname, allow, resolve).then(
      (vetted) => {
        if ('refused' in vetted) return callback(new EgressRefused(vetted.refused), '', 0);
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
        const fit = vetted.addresses.filter((a) => !family || a.family === family);
        if (fit.length === 0)
          return callback(Object.assign(new Error(`no IPv${family} address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, fit as LookupAddress[]);
        callback(null, fit[0]!.address, fit[0]!.family);
      },
      (err: Error) => callback(err, '', 0),
    );
  }) as LookupFunction;
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

export function egressConnector(allow: Allowlist, resolve: Resolver = systemResolver): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(allow, resolve) });
  return (options, callback) => {
    // A literal host never reaches the lookup (net connects to it directly), so it is judged here.
    if (isIP(options.hostname)) {
      const refused = checkAddress(options.hostname, allow);
      if (refused) return callback(new EgressRefused(refused), null);
    }
    connect(options, callback);
  };
}

/** The keep-alive Agent API-registered HTTP and SSE servers connect through. */
export function egressAgent(allow: Allowlist, resolve?: Resolver, options: Agent.Options = {}): Agent {
  return new Agent({ ...options, connect: egressConnector(allow, resolve) });
}
