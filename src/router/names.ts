/**
 * Exposed names for the aggregate catalog: SEP-986 validity, deterministic shortening and the
 * name table the router uses to route a call back to its server.
 *
 * Everything here is a pure function of its inputs (plus SHA-256), so every replica and every
 * process computes the same exposed names for the same config and upstream listings.
 */
import { createHash } from 'node:crypto';
import type { PrefixMode } from '../config/types.js';

/** SEP-986 bounds for tool, prompt and template names. */
export const MAX_NAME_LENGTH = 128;
/** Shortest `maxLength` we accept: below this a shortened name would be little more than its hash. */
export const MIN_EXPOSED_NAME_LENGTH = 16;

const VALID_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const INVALID_CHAR = /[^A-Za-z0-9_.-]/gu;
/** `_` plus 8 base32 characters (40 bits of SHA-256). */
const HASH_CHARS = 8;
const SUFFIX_LENGTH = HASH_CHARS + 1;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** True when `s` is a SEP-986 name: 1 to 128 characters of `[A-Za-z0-9_.-]`. */
export function isValidName(s: string): boolean {
  return VALID_NAME.test(s);
}

/**
 * Replaces every character outside `[A-Za-z0-9_.-]` with `_`. Works per code point (the `u` flag),
 * so an emoji becomes one `_`, not two. Upstream names may contain anything; this never throws.
 */
export function sanitizeNamePart(s: string): string {
  return s.replace(INVALID_CHAR, '_');
}

/** 8 lowercase base32 characters of SHA-256(input): stable across processes, SEP-986-safe. */
export function stableHash(input: string): string {
  const digest = createHash('sha256').update(input, 'utf8').digest();
  // First 40 bits, 5 bits per character.
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(digest[i]);
  let out = '';
  for (let i = HASH_CHARS - 1; i >= 0; i--) out += BASE32[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < MIN_EXPOSED_NAME_LENGTH || maxLength > MAX_NAME_LENGTH) {
    throw new RangeError(`maxLength must be an integer from ${MIN_EXPOSED_NAME_LENGTH} to ${MAX_NAME_LENGTH}, got ${maxLength}`);
  }
}

/** Keeps a readable head of `name` and appends `_` + the hash, so the result is exactly `maxLength` long at most. */
function withHashSuffix(name: string, hashInput: string, maxLength: number): string {
  return `${name.slice(0, maxLength - SUFFIX_LENGTH)}_${stableHash(hashInput)}`;
}

/**
 * The exposed form of `prefix + separator + name` (just `name` when `prefix` is undefined):
 * sanitized to SEP-986 and, when longer than `maxLength`, shortened to a readable head plus
 * `_` and a hash of the full unsanitized, unshortened name. Never returns an empty or invalid name.
 */
export function exposeName(prefix: string | undefined, name: string, separator: string, maxLength: number): string {
  checkMaxLength(maxLength);
  const full = prefix === undefined ? name : `${prefix}${separator}${name}`;
  const sanitized = sanitizeNamePart(full) || '_';
  return sanitized.length <= maxLength ? sanitized : withHashSuffix(sanitized, full, maxLength);
}

export interface NameEntry {
  /** The configured server name (the routing key, not the prefix). */
  server: string;
  /** The server's alias, or its name. */
  prefix: string;
  /** The upstream's original name: what calls are sent with. */
  name: string;
  /** A display name (`tool_name_to_display_name`) exposed instead of `name`; routing still returns `name`. */
  display?: string;
  mode: PrefixMode;
}

export interface NameTarget {
  server: string;
  /** The original upstream name. */
  name: string;
}

export interface NameCollision {
  exposed: string;
  /** Every `never`-mode server that wanted `exposed` unchanged, in input order; the first one keeps it. */
  servers: string[];
  /** The same contenders with their original names; all but the first are not exposed. */
  targets: NameTarget[];
}

export interface NameTable {
  /** Exposed name -> where to send it. Iteration order follows the input entries. */
  exposed: Map<string, NameTarget>;
  /** Server -> original name -> exposed name. A name absent here is not exposed (see `collisions`). */
  byServer: Map<string, Map<string, string>>;
  /** Names left out because `never` mode forbade disambiguating them. Never silent: log these. */
  collisions: NameCollision[];
}

export interface NameTableOptions {
  separator: string;
  maxLength: number;
}

interface Candidate {
  entry: NameEntry;
  /** The name the entry asks for before any disambiguation. */
  wanted: string;
  /** True when `wanted` is exactly the intended string, not sanitized or shortened. */
  lossless: boolean;
}

/**
 * Builds the exposed-name table for one kind of item (tools, prompts or resource templates each get
 * their own table). Entries are read in order: config order of servers, then upstream listing order.
 *
 * Modes:
 * - `always`: `{prefix}{separator}{name}`.
 * - `conditional`: the bare name, unless that bare name is wanted by another server's entry
 *   (before or after sanitizing), in which case it is prefixed.
 * - `never`: the bare name. When two `never` entries from different servers want the same exact
 *   name, the first in input order keeps it and the rest are left out and reported in
 *   `collisions` (they cannot be renamed without a prefix, and one must not shadow the other).
 *
 * Any other clash (sanitizing or shortening made two names equal, a separator inside a server or
 * tool name, a bare name equal to another server's prefixed one) is resolved by keeping the one
 * entry whose name is lossless and giving every other contender `_` + a hash of (server, name).
 * When several contenders are lossless and none is `never`, all of them get a hash: there is no
 * principled winner. The same (server, name) listed twice is one entry.
 */
export function buildNameTable(entries: readonly NameEntry[], opts: NameTableOptions): NameTable {
  checkMaxLength(opts.maxLength);
  const unique = dedupe(entries);
  const candidates = chooseCandidates(unique, opts);

  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const group = groups.get(c.wanted);
    if (group) group.push(c);
    else groups.set(c.wanted, [c]);
  }

  const assigned = new Map<Candidate, string>();
  const needHash: Candidate[] = [];
  const collisions: NameCollision[] = [];
  for (const [wanted, group] of groups) {
    if (group.length === 1) {
      assigned.set(group[0], wanted);
      continue;
    }
    const fixed = group.filter((c) => c.entry.mode === 'never' && c.lossless);
    const lossless = group.filter((c) => c.lossless);
    const keeper = fixed[0] ?? (lossless.length === 1 ? lossless[0] : undefined);
    if (keeper) assigned.set(keeper, wanted);
    if (fixed.length > 1) {
      collisions.push({
        exposed: wanted,
        servers: fixed.map((c) => c.entry.server),
        targets: fixed.map((c) => ({ server: c.entry.server, name: c.entry.name })),
      });
    }
    for (const c of group) if (c !== keeper && !fixed.includes(c)) needHash.push(c);
  }

  const taken = new Set(assigned.values());
  for (const c of needHash) {
    const name = disambiguate(c, taken, opts.maxLength);
    taken.add(name);
    assigned.set(c, name);
  }

  const table: NameTable = { exposed: new Map(), byServer: new Map(), collisions };
  for (const c of candidates) {
    const name = assigned.get(c);
    if (name === undefined) continue;
    table.exposed.set(name, { server: c.entry.server, name: c.entry.name });
    let names = table.byServer.get(c.entry.server);
    if (!names) table.byServer.set(c.entry.server, (names = new Map()));
    names.set(c.entry.name, name);
  }
  return table;
}

function dedupe(entries: readonly NameEntry[]): NameEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = JSON.stringify([e.server, e.name]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function candidate(entry: NameEntry, prefixed: boolean, opts: NameTableOptions): Candidate {
  const shown = entry.display ?? entry.name;
  const intended = prefixed ? `${entry.prefix}${opts.separator}${shown}` : shown;
  const wanted = exposeName(prefixed ? entry.prefix : undefined, shown, opts.separator, opts.maxLength);
  return { entry, wanted, lossless: wanted === intended };
}

function chooseCandidates(entries: NameEntry[], opts: NameTableOptions): Candidate[] {
  // Which servers want each bare (exposed) name; decides `conditional` prefixing.
  const bareOwners = new Map<string, Set<string>>();
  const bare = entries.map((e) => candidate(e, false, opts));
  for (const c of bare) {
    const owners = bareOwners.get(c.wanted) ?? new Set<string>();
    owners.add(c.entry.server);
    bareOwners.set(c.wanted, owners);
  }
  const first = entries.map((e, i) => (e.mode === 'always' ? candidate(e, true, opts) : bare[i]));
  const wantedBy = new Map<string, Set<string>>();
  for (const c of first) {
    const owners = wantedBy.get(c.wanted) ?? new Set<string>();
    owners.add(c.entry.server);
    wantedBy.set(c.wanted, owners);
  }
  return first.map((c) => {
    if (c.entry.mode !== 'conditional') return c;
    // Shared with another server as a bare name, or clashing with another server's prefixed name.
    const shared = (bareOwners.get(c.wanted)?.size ?? 0) > 1 || (wantedBy.get(c.wanted)?.size ?? 0) > 1;
    return shared ? candidate(c.entry, true, opts) : c;
  });
}

function disambiguate(c: Candidate, taken: Set<string>, maxLength: number): string {
  // Server and name are hashed as a tuple so `a-b`+`c` and `a`+`b-c` differ; the attempt counter
  // only moves on a (40-bit) clash with a name already taken, which keeps the result deterministic.
  for (let attempt = 0; ; attempt++) {
    const hashInput = JSON.stringify([c.entry.server, c.entry.name, attempt]);
    const name = withHashSuffix(c.wanted, hashInput, maxLength);
    if (!taken.has(name)) return name;
  }
}
