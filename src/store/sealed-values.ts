import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secret-bearing values at rest (stored servers' credentials, header and env values): AES-256-GCM
 * with a random 96-bit IV per value. The key is derived (HKDF-SHA256) from the operator's salt key,
 * so the salt key itself is never used as a cipher key and other uses of it cannot collide.
 *
 * Sealed text: `tgs1:` + base64url(iv | tag | ciphertext). The version prefix is authenticated (it is
 * the GCM additional data): a value cannot be relabelled to another scheme without failing to open.
 */
const VERSION = 'tgs1';
const PREFIX = `${VERSION}:`;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The environment variables that hold the salt key, in the order they are read. */
export const SALT_KEY_VARIABLES = ['TOOLGATE_SALT_KEY', 'LITELLM_SALT_KEY'] as const;

export class SealedValues {
  readonly #key: Buffer;

  constructor(saltKey: string) {
    if (saltKey.length === 0) throw new Error('the salt key is empty');
    this.#key = Buffer.from(hkdfSync('sha256', saltKey, 'toolgate-sealed-values', VERSION, 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(VERSION));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plain value; throws (without the value) when it was sealed with another key or altered. */
  open(sealed: string): string {
    if (!isSealed(sealed)) throw new Error(`not a sealed value (expected the ${VERSION} prefix)`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`sealed value does not open with this salt key (was ${SALT_KEY_VARIABLES.join(' or ')} changed?)`);
    }
  }

  /** Each value of a string map sealed (header and env values). */
  sealMap(map: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, this.seal(v)]));
  }

  openMap(map: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, this.open(v)]));
  }
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** The salt key from the environment (Toolgate's variable first, then LiteLLM's), or undefined. */
export function saltKeyFrom(env: Record<string, string | undefined>): string | undefined {
  for (const name of SALT_KEY_VARIABLES) if (env[name]) return env[name];
  return undefined;
}
