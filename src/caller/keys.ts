import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller, KeyRefusal } from './caller.js';
import type { IdentitySnapshot } from './snapshot.js';

export type { Caller, CallerIdentity } from './caller.js';

/** The outcome of checking a request's key: the caller, or a refusal whose message names why (never the key). */
export type Authentication = { ok: true; caller: Caller } | ({ ok: false } & KeyRefusal);

const MISSING: Authentication = {
  ok: false,
  reason: 'missing',
  message: 'Unauthorized: send the Toolgate key as "Authorization: Bearer <key>" or "x-litellm-api-key: <key>"',
};

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key a request presents: `Authorization: Bearer K` or LiteLLM's `x-litellm-api-key: [Bearer ]K`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const litellm = headers['x-litellm-api-key'];
  if (typeof litellm === 'string' && litellm.length > 0) return stripBearer(litellm);
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return stripBearer(auth);
  return undefined;
}

function stripBearer(v: string): string {
  return v.replace(/^bearer\s+/i, '').trim();
}

/**
 * Resolves callers from keys: the master key, then virtual keys by their SHA-256 in the identity snapshot.
 * The master comparison is on digests with timingSafeEqual, so neither the key's length nor its prefix
 * leaks through timing; virtual keys are looked up by digest, which reveals nothing about the key either.
 */
export class KeyResolver {
  private readonly masterDigest?: Buffer;
  /** One object for the master key: callers compare and cache by identity. */
  private readonly master?: Caller;
  /**
   * Presented key → its SHA-256, so a known key costs one Map lookup instead of a hash per request.
   * Only keys that authenticated are kept (random wrong keys never enter) and the map is bounded: past
   * MEMO_LIMIT the oldest entry goes. It holds digests, not decisions: expiry, blocking and revocation
   * are checked against the snapshot on every request.
   */
  private readonly memo = new Map<string, Buffer>();
  static readonly MEMO_LIMIT = 1024;

  constructor(
    masterKey: string | undefined,
    private readonly identities?: IdentitySnapshot,
  ) {
    if (masterKey) {
      this.masterDigest = digest(masterKey);
      this.master = { keyId: 'master:' + this.masterDigest.subarray(0, 6).toString('hex'), isMaster: true };
    }
  }

  resolve(headers: IncomingHttpHeaders): Caller | undefined {
    const auth = this.authenticate(headers);
    return auth.ok ? auth.caller : undefined;
  }

  /** Like resolve, with the reason when there is no caller (missing, unknown, expired, blocked). */
  authenticate(headers: IncomingHttpHeaders): Authentication {
    const key = presentedKey(headers);
    if (key === undefined) return MISSING;
    const known = this.memo.get(key);
    const d = known ?? digest(key);
    let auth: Authentication;
    if (this.masterDigest && timingSafeEqual(d, this.masterDigest)) auth = { ok: true, caller: this.master! };
    else {
      const found = this.identities?.authenticate(d.toString('hex'));
      if (found === undefined) auth = { ok: false, reason: 'unknown', message: 'Unauthorized: the key is not valid' };
      else auth = 'reason' in found ? { ok: false, ...found } : { ok: true, caller: found };
    }
    if (auth.ok && !known) {
      if (this.memo.size >= KeyResolver.MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(key, d);
    }
    return auth;
  }

  /** Drop every memoised digest (tests; nothing depends on it for correctness). */
  forget(): void {
    this.memo.clear();
  }

  /** How many presented keys are memoised (for tests: random keys must not grow it). */
  get memoSize(): number {
    return this.memo.size;
  }
}
