import { Sealer, type KeySource } from './sealed.js';

/**
 * Signed, expiring tokens for state that round-trips through a client (MRTR requestState), in the
 * sealed-token codec's dotted framing: `{prefix}.{base64url JSON}.{mac}`, readable by the client,
 * unforgeable without the key. `tg1` is state Toolgate mints for its bridge, `tg2` wraps a 2026
 * upstream's own state; each prefix is a purpose of its own.
 */
export class StateTokens {
  private readonly sealer: Sealer;

  constructor(keys: KeySource, prefix: string) {
    this.sealer = new Sealer(keys, 'state/' + prefix, { framing: 'dotted', prefix });
  }

  /** A token for `payload` bound to `bind` (checked again by `open`), expiring after `ttlMs`. */
  seal(payload: Record<string, unknown>, opts: { ttlMs: number; bind?: Readonly<Record<string, string>> }): string {
    return this.sealer.seal(payload, opts);
  }

  /** The payload, or undefined when the token is not ours, was altered, has expired, or is bound to something else. */
  open(token: string, bind?: Readonly<Record<string, string>>): Record<string, unknown> | undefined {
    const r = this.sealer.open(token, bind);
    return r.ok ? r.payload : undefined;
  }

  /** `seal` with the binding carried in the payload (kept for callers that check it themselves). */
  sign(payload: Record<string, unknown>, ttlMs: number): string {
    return this.seal(payload, { ttlMs });
  }

  /** `open` without a binding: the caller checks the payload's claims. */
  verify(token: string): Record<string, unknown> | undefined {
    return this.open(token);
  }

  isOurs(token: string): boolean {
    return this.sealer.isOurs(token);
  }
}
