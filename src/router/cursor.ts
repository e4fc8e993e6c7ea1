/**
 * Toolgate's own pagination cursors for aggregate listings.
 *
 * A cursor carries the position in the merged listing (which server, and that server's own cursor)
 * plus the catalog version or scope fingerprint it was issued for and when. It is signed with
 * HMAC-SHA256 so a client can neither forge a position nor replay a cursor against another scope,
 * and any replica holding the same secret can continue the listing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';

export interface CursorState {
  /** Position of the server in the merged listing. */
  s: number;
  /** That server's own cursor, when its listing continues on the upstream. */
  c?: string;
  /** Catalog version or scope fingerprint the cursor belongs to. */
  v: string;
}

export interface CursorCodecOptions {
  /** Cursors older than this are refused. Default 10 minutes. */
  maxAgeMs?: number;
  /** Clock, for tests; defaults to Date.now. */
  now?: () => number;
}

export interface CursorCodec {
  /** An opaque, base64url, signed cursor for `state`. */
  encode(state: CursorState): string;
  /**
   * The state inside `cursor`, or McpError(-32602, 'Invalid cursor') when it is malformed, was
   * altered, is older than the max age, or was issued for another version/scope than `expectedV`.
   */
  decode(cursor: string, expectedV: string): CursorState;
}

export type CursorRejection = 'malformed' | 'tampered' | 'expired' | 'scope';

export const DEFAULT_CURSOR_MAX_AGE_MS = 10 * 60 * 1000;
/** Replicas' clocks may disagree a little; a cursor "from the future" within this is accepted. */
const CLOCK_SKEW_MS = 60 * 1000;
/** 128 bits of HMAC-SHA256: ample against forgery and keeps cursors short. */
const MAC_BYTES = 16;
/** Bounds the work a hostile cursor can cause; upstream cursors are rarely more than a few hundred bytes. */
const MAX_CURSOR_CHARS = 8192;
const FORMAT = 1;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function invalid(reason: CursorRejection): McpError {
  // The reason is not secret and helps a client author; the cursor itself is never echoed.
  return new McpError(ErrorCode.InvalidParams, 'Invalid cursor', { reason });
}

/** Creates a codec bound to `secret` (the gateway's state secret; same value on every replica). */
export function createCursorCodec(secret: Buffer | string, options: CursorCodecOptions = {}): CursorCodec {
  if (secret.length === 0) throw new RangeError('cursor secret must not be empty');
  // A key of its own, so the state secret's other uses (requestState, ...) can never verify as cursors.
  const key = createHmac('sha256', secret).update('toolgate/cursor/v1').digest();
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_CURSOR_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  const mac = (payload: Buffer) => createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);

  return {
    encode(state) {
      if (!Number.isSafeInteger(state.s) || state.s < 0) throw new RangeError('cursor server position must be a non-negative integer');
      const fields: unknown[] = [FORMAT, state.s, state.v, now()];
      if (state.c !== undefined) fields.push(state.c);
      const payload = Buffer.from(JSON.stringify(fields), 'utf8');
      return Buffer.concat([payload, mac(payload)]).toString('base64url');
    },

    decode(cursor, expectedV) {
      if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_CHARS || !BASE64URL.test(cursor)) throw invalid('malformed');
      const raw = Buffer.from(cursor, 'base64url');
      // Canonical encoding only, so no two strings (differing in unused trailing bits) are one cursor.
      if (raw.length <= MAC_BYTES || raw.toString('base64url') !== cursor) throw invalid('malformed');
      const payload = raw.subarray(0, raw.length - MAC_BYTES);
      if (!timingSafeEqual(raw.subarray(raw.length - MAC_BYTES), mac(payload))) throw invalid('tampered');

      const fields = parse(payload);
      if (!fields) throw invalid('malformed');
      const [, s, v, issuedAt, c] = fields;
      const age = now() - issuedAt;
      if (age > maxAgeMs || age < -CLOCK_SKEW_MS) throw invalid('expired');
      if (v !== expectedV) throw invalid('scope');
      return c === undefined ? { s, v } : { s, c, v };
    },
  };
}

type Fields = [number, number, string, number, string | undefined];

function parse(payload: Buffer): Fields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length < 4 || value.length > 5) return undefined;
  const [format, s, v, issuedAt, c] = value as unknown[];
  if (format !== FORMAT || !Number.isSafeInteger(s) || (s as number) < 0) return undefined;
  if (typeof v !== 'string' || typeof issuedAt !== 'number' || !Number.isFinite(issuedAt)) return undefined;
  if (c !== undefined && typeof c !== 'string') return undefined;
  return [format, s as number, v, issuedAt, c];
}

/**
 * A short, stable fingerprint of a scope or catalog version (e.g. the sorted server names in scope
 * and their catalog generations), for `CursorState.v`. Order of `parts` matters.
 */
export function fingerprint(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}
