/** Protocol revisions Toolgate speaks with session-based (pre-2026) clients, newest first. */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
/** Stateless revisions (per-request `_meta` envelope). */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
export const LATEST_LEGACY_VERSION = '2025-11-25';
/** What a session-based request without `MCP-Protocol-Version` is assumed to speak (spec: 2025-03-26). */
export const DEFAULT_NEGOTIATED_VERSION = '2025-03-26';

export function isSupportedLegacyVersion(v: string): boolean {
  return (LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(v);
}

/** The version to answer an `initialize` with: the client's own if we speak it, else our latest. */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === 'string' && isSupportedLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
}

/** JSON-RPC batches exist only in 2025-03-26 (added then, removed in 2025-06-18). */
export function versionAllowsBatch(v: string): boolean {
  return v === '2025-03-26';
}

export function isModernVersion(v: string | undefined): boolean {
  return v !== undefined && (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(v);
}
