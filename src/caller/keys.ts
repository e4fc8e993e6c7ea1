import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { CallerAccess } from './access.js';

/** Who is asking. For now the master key is the only identity; virtual keys come with the store. */
export interface Caller {
  /** Stable, non-secret id of the key (a hash prefix), used to bind sessions and in logs. */
  keyId: string;
  isMaster: boolean;
  /** What the caller may use; undefined means unrestricted (the master key). */
  access?: CallerAccess;
}

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
 * Resolves callers from keys. Comparison is on SHA-256 digests with timingSafeEqual, so neither the
 * key's length nor its prefix leaks through timing.
 */
export class KeyResolver {
  private readonly masterDigest?: Buffer;
  private readonly masterId?: string;
  /**
   * Presented key → resolved caller, so a known key costs one Map lookup instead of a SHA-256 per
   * request. Only keys that resolved are kept (random wrong keys never enter), and the map is
   * bounded: past MEMO_LIMIT the oldest entry goes. Whatever revokes a key must call forget().
   */
  private readonly memo = new Map<string, Caller>();
  static readonly MEMO_LIMIT = 1024;

  constructor(masterKey: string | undefined) {
    if (masterKey) {
      this.masterDigest = digest(masterKey);
      this.masterId = 'master:' + this.masterDigest.subarray(0, 6).toString('hex');
    }
  }

  resolve(headers: IncomingHttpHeaders): Caller | undefined {
    const key = presentedKey(headers);
    if (key === undefined || !this.masterDigest) return undefined;
    const known = this.memo.get(key);
    if (known) return known;
    if (!timingSafeEqual(digest(key), this.masterDigest)) return undefined;
    const caller: Caller = { keyId: this.masterId!, isMaster: true };
    if (this.memo.size >= KeyResolver.MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(key, caller);
    return caller;
  }

  /** Drop every memoised resolution (a key was revoked or changed). */
  forget(): void {
    this.memo.clear();
  }

  /** How many presented keys are memoised (for tests: random keys must not grow it). */
  get memoSize(): number {
    return this.memo.size;
  }
}
