import { lookup as dnsLookup } from 'node:dns/promises';
import { embeddedIpv4, inCidr, parseCidr, parseIp, type Cidr, type Ip } from './ip-address.js';

/**
 * Where a server registered through the API may point (SSRF guard). Config-file servers are trusted
 * as written; API-registered ones are checked when written and again on every connect, because a name
 * may resolve somewhere else tomorrow.
 */
export type AddressClass = 'metadata-or-link-local' | 'private' | 'loopback' | 'public';

export interface Allowlist {
  readonly entries: readonly string[];
  readonly hosts: ReadonlySet<string>;
  /** From `*.example.internal` entries: the name itself and every name below it. */
  readonly suffixes: readonly string[];
  readonly cidrs: readonly Cidr[];
}

/** Answers every address a name resolves to (dns.lookup all): the connect-time guard checks each one. */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export const EMPTY_ALLOWLIST: Allowlist = parseAllowlist([]);

export const ALLOWLIST_SETTING = 'toolgate_settings.upstream_allowlist';

/** Thrown by the connect-time guard; the message is the refusal (host, address, the setting). */
export class EgressRefused extends Error {
  readonly code = 'TOOLGATE_EGRESS_REFUSED';
}

const HOST_ENTRY = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** Cloud instance-metadata names; each answers on a link-local or provider-internal address. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

const ranges = (list: string[]) => list.map((c) => parseCidr(c));
/** Metadata endpoints outside link-local: AWS's IPv6 one, Alibaba's in the carrier-grade NAT range. */
const METADATA = ranges(['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32']);
/** 0.0.0.0 and :: reach the local host on Linux. */
const LOOPBACK = ranges(['127.0.0.0/8', '0.0.0.0/8', '::1/128', '::/128']);
const PRIVATE = ranges(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fec0::/10']);

/** Hosts and CIDRs (IPv4 or IPv6); a bad entry throws a message naming it. */
export function parseAllowlist(entries: string[]): Allowlist {
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const cidrs: Cidr[] = [];
  for (const raw of entries) {
    const entry = normalHost(String(raw));
    const named = (why: string) => new Error(`${ALLOWLIST_SETTING} entry ${JSON.stringify(raw)} ${why}`);
    const base = entry.split('/')[0]!;
    if (parseIp(base) || (entry.includes('/') && /^[0-9a-f.:]+$/.test(base))) {
      let cidr: Cidr;
      try {
        cidr = parseCidr(entry);
      } catch (err) {
        throw named((err as Error).message);
      }
      if (classifyIp(cidr) === 'metadata-or-link-local')
        throw named('can never be admitted: link-local and cloud-metadata addresses are always refused');
      cidrs.push(cidr);
    } else if (HOST_ENTRY.test(entry)) {
      if (METADATA_NAMES.has(entry)) throw named('can never be admitted: cloud-metadata names are always refused');
      if (entry.startsWith('*.')) suffixes.push(entry.slice(2));
      else hosts.add(entry);
    } else {
      throw named('is not a host name (e.g. mcp.internal, *.corp.example) or a CIDR (e.g. 10.0.0.0/8, fd12::/16)');
    }
  }
  return { entries: [...entries], hosts, suffixes, cidrs };
}

function normalHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function classifyIp(ip: Ip): AddressClass {
  const inner = embeddedIpv4(ip);
  if (inner) return classifyIp(inner);
  if (METADATA.some((c) => inCidr(ip, c))) return 'metadata-or-link-local';
  if (LOOPBACK.some((c) => inCidr(ip, c))) return 'loopback';
  if (PRIVATE.some((c) => inCidr(ip, c))) return 'private';
  return 'public';
}

/** Classifies a literal address; anything that is not one is 'public' only if it parses, so callers pass literals. */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  if (!parsed) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  return classifyIp(parsed);
}

/** A host name's class when the name alone decides it (metadata names, localhost). */
function classifyName(host: string): AddressClass | undefined {
  if (METADATA_NAMES.has(host)) return 'metadata-or-link-local';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  return undefined;
}

function admits(allow: Allowlist, ip: Ip | undefined, host: string | undefined): boolean {
  if (host && (allow.hosts.has(host) || allow.suffixes.some((s) => host === s || host.endsWith(`.${s}`)))) return true;
  return ip !== undefined && allow.cidrs.some((c) => inCidr(ip, c) || (embeddedIpv4(ip) && inCidr(embeddedIpv4(ip)!, c)));
}

const KIND: Record<Exclude<AddressClass, 'public'>, string> = {
  'metadata-or-link-local': 'a link-local or cloud-metadata address',
  loopback: 'a loopback address',
  private: 'a private address',
};

function refusal(host: string, address: string, kind: Exclude<AddressClass, 'public'>): string {
  const where = !parseIp(address) ? `"${host}"` : host === address ? address : `"${host}" (${address})`;
  if (kind === 'metadata-or-link-local')
    return `upstream ${where} is ${KIND[kind]}, which is always refused (${ALLOWLIST_SETTING} cannot admit it)`;
  return `upstream ${where} is ${KIND[kind]}; add the host or its CIDR to ${ALLOWLIST_SETTING} to allow it`;
}

/**
 * undefined when the address may be reached, else the refusal. `host` is the name that resolved to
 * it, so a host entry of the allowlist admits that name's addresses.
 */
export function checkAddress(ip: string, allow: Allowlist, host?: string): string | undefined {
  const parsed = parseIp(ip);
  const name = host === undefined ? undefined : normalHost(host);
  if (!parsed) return `upstream ${JSON.stringify(ip)} is not an IP address`;
  const kind = (name && classifyName(name)) || classifyIp(parsed);
  if (kind === 'public') return undefined;
  if (kind !== 'metadata-or-link-local' && admits(allow, parsed, name)) return undefined;
  return refusal(name ?? ip, ip, kind);
}

/**
 * The check made when a server is registered: the URL's host (its odd IPv4 spellings normalised by
 * the URL parser), then every address it resolves to. undefined = allowed.
 */
export async function checkUpstreamUrl(url: string, allow: Allowlist, resolve: Resolver = systemResolver): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `upstream URL ${JSON.stringify(url)} is not a valid URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `upstream URL must be http:// or https:// (got ${parsed.protocol})`;
  return checkHost(parsed.hostname, allow, resolve);
}

/** A host name or literal as a URL carries it; resolution failures refuse too (fail closed). */
export async function checkHost(hostname: string, allow: Allowlist, resolve: Resolver): Promise<string | undefined> {
  const vetted = await vetHost(hostname, allow, resolve);
  return 'refused' in vetted ? vetted.refused : undefined;
}

export type Vetted = { refused: string } | { addresses: { address: string; family: number }[] };

/** Resolves a host once and judges every address: what is connected to is exactly what was checked. */
export async function vetHost(hostname: string, allow: Allowlist, resolve: Resolver): Promise<Vetted> {
  const host = normalHost(hostname);
  const literal = parseIp(host);
  if (literal) {
    const refused = checkAddress(host, allow);
    return refused ? { refused } : { addresses: [{ address: host, family: literal.family }] };
  }
  const byName = classifyName(host);
  if (byName === 'metadata-or-link-local') return { refused: refusal(host, host, byName) };
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    return { refused: `upstream "${host}" could not be resolved (${code}); its address must be known to be checked` };
  }
  if (addresses.length === 0) return { refused: `upstream "${host}" resolved to no address` };
  for (const { address } of addresses) {
    const refused = checkAddress(address, allow, host);
    if (refused) return { refused };
  }
  return { addresses };
}
