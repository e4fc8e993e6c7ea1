import { isIP } from 'node:net';

/** An address as bytes: 4 for IPv4, 16 for IPv6, so ranges compare bit by bit whatever the spelling. */
export interface Ip {
  family: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr extends Ip {
  prefix: number;
}

/**
 * Parses a literal address (brackets and an IPv6 zone id tolerated). Only canonical literals: the
 * odd IPv4 spellings (2852039166, 0xa9.0xfe.0xa9.0xfe) reach us already normalised by the WHATWG URL
 * parser, or through the resolver, which answers in dotted decimal.
 */
export function parseIp(text: string): Ip | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return { family: 4, bytes: Uint8Array.from(bare.split('.').map(Number)) };
  if (family === 6) return { family: 6, bytes: ipv6Bytes(bare) };
  return undefined;
}

function ipv6Bytes(text: string): Uint8Array {
  // A dotted IPv4 tail (::ffff:169.254.169.254) is the last two groups.
  const hex = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const [left, right] = hex.split('::');
  const l = groups(left!);
  const r = right === undefined ? [] : groups(right);
  const words = right === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

/** `10.0.0.0/8`, `fd12::/16`, or a bare address (a /32 or /128). Throws a message saying what is wrong. */
export function parseCidr(text: string): Cidr {
  const [addr, prefixText, extra] = text.split('/');
  const ip = parseIp(addr ?? '');
  if (!ip || extra !== undefined) throw new Error('is not an address or CIDR');
  const max = ip.family === 4 ? 32 : 128;
  if (prefixText === undefined) return { ...ip, prefix: max };
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`has a prefix length outside 0-${max}`);
  return { ...ip, prefix };
}

export function inCidr(ip: Ip, cidr: Cidr): boolean {
  if (ip.family !== cidr.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

const v4 = (a: number, b: number, c: number, d: number): Ip => ({ family: 4, bytes: Uint8Array.of(a, b, c, d) });

/**
 * The IPv4 address an IPv6 one carries on the wire: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d),
 * NAT64 (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::). Each reaches that IPv4 host, so each is judged as it.
 */
export function embeddedIpv4(ip: Ip): Ip | undefined {
  if (ip.family !== 6) return undefined;
  const b = ip.bytes;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last = () => v4(b[12]!, b[13]!, b[14]!, b[15]!);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return last();
  if (zero(0, 12) && !zero(12, 16) && !(zero(12, 15) && b[15]! <= 1)) return last();
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return last();
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b[2]!, b[3]!, b[4]!, b[5]!);
  return undefined;
}
