/**
 * Toolgate's own pagination cursors for aggregate listings.
 *
 * A cursor carries the position in the merged listing (which server, and that server's own cursor)
 * plus the catalog version or scope fingerprint it was issued for and when. It is signed with
 * with the sealed-token codec (mcp/sealed.ts) so a client can neither forge a position nor replay a
 * cursor against another scope, and any replica holding the same secret can continue the listing.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import { Sealer, type KeySource } from '../mcp/sealed.js';

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
/** Bounds the work a hostile cursor can cause; upstream cursors are rarely more than a few hundred bytes. */
const MAX_CURSOR_CHARS = 8192;

function invalid(reason: CursorRejection): McpError {
  // The reason is not secret and helps a client author; the cursor itself is never echoed.
  return new McpError(ErrorCode.InvalidParams, 'Invalid cursor', { reason });
}

/** A codec bound to the gateway's token keys (or, for tests and tools, the state secret they derive from). */
export function createCursorCodec(keys: KeySource, options: CursorCodecOptions = {}): CursorCodec {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_CURSOR_MAX_AGE_MS;
  // The sealed-token codec, compact framing: a cursor is one base64url string, bound to its scope.
  const sealer = new Sealer(keys, 'cursor', { framing: 'compact', maxTtlMs: maxAgeMs, maxChars: MAX_CURSOR_CHARS, now: options.now });

  return {
    encode(state) {
      if (!Number.isSafeInteger(state.s) || state.s < 0) throw new RangeError('cursor server position must be a non-negative integer');
      return sealer.seal(state.c === undefined ? { s: state.s } : { s: state.s, c: state.c }, { ttlMs: maxAgeMs, bind: { v: state.v } });
    },

    decode(cursor, expectedV) {
      const opened = sealer.open<{ s: unknown; c?: unknown; v: string }>(cursor, { v: expectedV });
      if (!opened.ok) throw invalid(opened.reason === 'bound' ? 'scope' : opened.reason);
      const { s, c, v } = opened.payload;
      if (!Number.isSafeInteger(s) || (s as number) < 0 || (c !== undefined && typeof c !== 'string')) throw invalid('malformed');
      return c === undefined ? { s: s as number, v } : { s: s as number, c, v };
    },
  };
}

/**
 * A short, stable fingerprint of a scope or catalog version (e.g. the sorted server names in scope
 * and their catalog generations), for `CursorState.v`. Order of `parts` matters.
 */
export function fingerprint(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}
