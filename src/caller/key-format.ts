import { createHash, randomBytes } from 'node:crypto';

/** LiteLLM's key prefix: generated keys, custom keys and the master key all start with it. */
export const KEY_PREFIX = 'sk-';

/** 24 random bytes (192 bits), base64url: comfortably above the 128 bits asked of a bearer secret. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

/** The only form of a key that is stored: LiteLLM's unsalted SHA-256 hex, so its `token` ids carry over. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** How a key is shown everywhere after the response that created it: `sk-...abcd`. */
export function abbreviateKey(key: string): string {
  return `${KEY_PREFIX}...${key.slice(-4)}`;
}

/** A custom `key`: why it is refused, or undefined when it is usable. */
export function customKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'must be a string starting with "sk-"';
  if (!key.startsWith(KEY_PREFIX)) return 'must start with "sk-" (LiteLLM refuses other keys)';
  if (key.length < 16) return 'must be at least 16 characters long; leave key out to have one generated';
  if (!/^[\x21-\x7e]+$/.test(key)) return 'may contain only printable ASCII characters without spaces';
  return undefined;
}

/** True for a 64-character SHA-256 hex digest: what /key/* routes accept in place of a key. */
export function isKeyHash(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

/** `30s`, `30m`, `30h`, `30d` (LiteLLM's `duration`) in milliseconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d|w|mo)$/.exec(value.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, mo: 2_592_000_000 }[m[2] as 's'];
  return Number(m[1]) * unit;
}
