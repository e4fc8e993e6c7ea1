/**
 * What one caller may use, resolved ahead of time by the control plane (from its key, team, user and
 * organization grants and the current server set) so the request path only reads it.
 * The contract between the identity snapshot (which computes it) and the policy stage (which applies it).
 */
export interface CallerAccess {
  /** Servers this caller may use, by name; undefined means every server. */
  servers?: ReadonlySet<string>;
  /** Per server, the original (upstream) tool names it may use; a server absent here has no tool restriction. */
  tools?: ReadonlyMap<string, ReadonlySet<string>>;
  /** Equal for two callers exactly when their access is equal: keys catalog views, page caches and cursors. */
  fingerprint: string;
}

/** The access of a caller restricted by nothing (the master key, or no grant anywhere). */
export const UNRESTRICTED: CallerAccess = Object.freeze({ fingerprint: 'all' });
