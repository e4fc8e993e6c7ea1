import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring tokens for state that round-trips through a client (MRTR requestState).
 * HMAC-SHA256 over the base64url JSON payload; readable by the client, unforgeable without the key.
 * Every replica configured with the same secret accepts the others' tokens.
 */
export class StateTokens {
  private readonly key: Buffer;

  constructor(
    secret: Buffer | string,
    private readonly prefix: string,
  ) {
    // Domain-separated from other uses of the same secret (cursors).
    this.key = createHmac('sha256', secret)
      .update('toolgate:' + prefix)
      .digest();
  }

  sign(payload: Record<string, unknown>, ttlMs: number): string {
    const body = Buffer.from(JSON.stringify({ ...payload, exp: Date.now() + ttlMs })).toString('base64url');
    return `${this.prefix}.${body}.${this.mac(body)}`;
  }

  /** The payload, or undefined when the token is not ours, was altered, or has expired. */
  verify(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== this.prefix) return undefined;
    const expected = Buffer.from(this.mac(parts[1]!));
    const given = Buffer.from(parts[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof payload.exp === 'number' && payload.exp > Date.now() ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  isOurs(token: string): boolean {
    return token.startsWith(this.prefix + '.');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
