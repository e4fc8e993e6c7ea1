/**
 * One codec for every token Toolgate hands a client and must trust when it comes back: MRTR
 * requestState, aggregate pagination cursors, task handles. HMAC-SHA256 under a key derived per
 * purpose from the configured state secret, so one purpose's token never opens as another's, and
 * every replica configured with the same secret opens the others' tokens.
 *
 * A token's payload is readable by the client (it is signed, not encrypted) unless the framing hides
 * it by accident (compact); nothing secret goes in. `bind` claims are sealed into the payload and
 * compared at `open`, so a token presented by another key, method or scope is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

type Claims = Record<string, unknown>;

/** The key-derivation object: built once from the configured secret (gateway.ts) and passed explicitly. */
export class TokenKeys {
  private readonly secret: Buffer;

  constructor(secret: Buffer | string) {
    if (secret.length === 0) throw new RangeError('the state secret must not be empty');
    this.secret = Buffer.from(secret);
  }

  /** The key of one purpose: independent of every other purpose's key. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.secret)
      .update('toolgate:' + purpose)
      .digest();
  }
}

/** Tokens for a purpose are given either the keys, or (tests, tools) the raw secret they derive from. */
export type KeySource = TokenKeys | Buffer | string;

export function tokenKeys(source: KeySource): TokenKeys {
  return source instanceof TokenKeys ? source : new TokenKeys(source);
}

export type OpenRejection = 'malformed' | 'tampered' | 'expired' | 'bound';
export type Opened<T extends Claims = Claims> = { ok: true; payload: T } | { ok: false; reason: OpenRejection };

export interface SealOptions {
  /** Lifetime; the token carries its expiry (`exp`). Absent: it does not expire. */
  ttlMs?: number;
  /** Claims the token is bound to; `open` must be given the same values. */
  bind?: Readonly<Record<string, string>>;
}

export interface SealerOptions {
  /**
   * `dotted`: `{prefix}.{base64url payload}.{base64url mac}` (readable, recognisable by its prefix);
   * `compact`: one base64url string of payload and a 128-bit mac (short, opaque at a glance).
   */
  framing: 'dotted' | 'compact';
  prefix?: string;
  /** Longest lifetime issued: a token expiring later than now + this (+ clock skew) was not issued by a sane clock. */
  maxTtlMs?: number;
  /** Longest token accepted, bounding the work a hostile one can cause. */
  maxChars?: number;
  now?: () => number;
}

/** Replicas' clocks may disagree a little. */
const CLOCK_SKEW_MS = 60_000;
const COMPACT_MAC_BYTES = 16;
const TAG_CHARS = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class Sealer {
  private readonly key: Buffer;
  private readonly now: () => number;

  constructor(
    keys: KeySource,
    purpose: string,
    private readonly opts: SealerOptions,
  ) {
    this.key = tokenKeys(keys).derive(purpose);
    this.now = opts.now ?? Date.now;
  }

  seal(payload: Claims, opts: SealOptions = {}): string {
    const claims: Claims = { ...payload, ...opts.bind };
    if (opts.ttlMs !== undefined) claims.exp = this.now() + opts.ttlMs;
    const body = Buffer.from(JSON.stringify(claims), 'utf8');
    if (this.opts.framing === 'compact') return Buffer.concat([body, this.mac(body).subarray(0, COMPACT_MAC_BYTES)]).toString('base64url');
    const text = body.toString('base64url');
    return `${this.opts.prefix}.${text}.${this.mac(Buffer.from(text)).toString('base64url')}`;
  }

  open<T extends Claims = Claims>(token: unknown, bind: Readonly<Record<string, string>> = {}): Opened<T> {
    if (typeof token !== 'string' || token.length > (this.opts.maxChars ?? 65_536)) return { ok: false, reason: 'malformed' };
    const body = this.opts.framing === 'compact' ? this.openCompact(token) : this.openDotted(token);
    if (typeof body === 'string') return { ok: false, reason: body };
    let claims: unknown;
    try {
      claims = JSON.parse(body.toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return { ok: false, reason: 'malformed' };
    const c = claims as Claims;
    if (c.exp !== undefined) {
      if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) return { ok: false, reason: 'malformed' };
      const left = c.exp - this.now();
      if (left <= 0) return { ok: false, reason: 'expired' };
      if (this.opts.maxTtlMs !== undefined && left > this.opts.maxTtlMs + CLOCK_SKEW_MS) return { ok: false, reason: 'expired' };
    }
    for (const [k, v] of Object.entries(bind)) if (!Object.hasOwn(c, k) || c[k] !== v) return { ok: false, reason: 'bound' };
    return { ok: true, payload: c as T };
  }

  /** Whether a token is of this sealer's dotted kind (by prefix), before checking anything. */
  isOurs(token: string): boolean {
    return this.opts.prefix !== undefined && token.startsWith(this.opts.prefix + '.');
  }

  /**
   * A detached, 96-bit tag over `parts`, for handles whose content must stay readable as it is
   * (task ids: `{server}:{tag}:{upstream id}`); `checkTag` verifies it in constant time.
   */
  tag(parts: readonly string[]): string {
    return this.mac(Buffer.from(JSON.stringify(parts)))
      .toString('base64url')
      .slice(0, TAG_CHARS);
  }

  checkTag(tag: string, parts: readonly string[]): boolean {
    return equalText(tag, this.tag(parts));
  }

  private openCompact(token: string): Buffer | OpenRejection {
    if (!BASE64URL.test(token)) return 'malformed';
    const raw = Buffer.from(token, 'base64url');
    // Canonical encoding only, so no two strings (differing in unused trailing bits) are one token.
    if (raw.length <= COMPACT_MAC_BYTES || raw.toString('base64url') !== token) return 'malformed';
    const body = raw.subarray(0, raw.length - COMPACT_MAC_BYTES);
    const expected = this.mac(body).subarray(0, COMPACT_MAC_BYTES);
    return timingSafeEqual(raw.subarray(raw.length - COMPACT_MAC_BYTES), expected) ? body : 'tampered';
  }

  private openDotted(token: string): Buffer | OpenRejection {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== this.opts.prefix || !BASE64URL.test(parts[1]!)) return 'malformed';
    // Compared as text: a change in the mac's unused trailing bits is a change too.
    if (!equalText(parts[2]!, this.mac(Buffer.from(parts[1]!)).toString('base64url'))) return 'tampered';
    return Buffer.from(parts[1]!, 'base64url');
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.key).update(data).digest();
  }
}

function equalText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
