/**
 * LiteLLM's per-server tool settings: `allowed_tools` / `disallowed_tools` filters and
 * `tool_name_to_display_name` / `tool_name_to_description` overrides.
 *
 * The same `toolAllowed` decision must gate both `tools/list` and `tools/call`, so a hidden tool
 * can never be called and a callable tool is never hidden.
 */

export interface ToolFilterServer {
  name: string;
  alias?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
}

/**
 * Whether `toolName` (the upstream's unprefixed name) passes the server's filters: the allow list
 * first (when non-empty, the tool must match an entry), then the deny list removes what it matches.
 * An entry matches case-insensitively, either bare or prefixed as `{alias}{sep}{tool}` or
 * `{name}{sep}{tool}` (both prefixes are accepted so a list written before an alias was added keeps
 * working). An empty list counts as unset, as in LiteLLM.
 */
export function toolAllowed(toolName: string, server: ToolFilterServer, separator: string): boolean {
  const forms = toolForms(toolName, server, separator);
  const matches = (list: string[]) => list.some((entry) => forms.has(entry.toLowerCase()));
  if (server.allowedTools?.length && !matches(server.allowedTools)) return false;
  return !(server.disallowedTools?.length && matches(server.disallowedTools));
}

/** The lower-cased forms a config list may name a tool by: bare, `{name}{sep}{tool}` and `{alias}{sep}{tool}`. */
export function toolForms(toolName: string, server: ToolFilterServer, separator: string): Set<string> {
  const forms = new Set([toolName, `${server.name}${separator}${toolName}`].map((f) => f.toLowerCase()));
  if (server.alias !== undefined) forms.add(`${server.alias}${separator}${toolName}`.toLowerCase());
  return forms;
}

/**
 * A shallow copy of `tool` with `name` replaced by its display name and `description` by its
 * override, both keyed by the upstream's unprefixed name. Every other field is kept as is; the
 * input is never mutated. Returns an equal copy when no override applies.
 */
export function applyToolOverrides(
  tool: Record<string, unknown>,
  displayNames: Record<string, string>,
  descriptions: Record<string, string>,
): Record<string, unknown> {
  const copy = { ...tool };
  if (typeof tool.name !== 'string') return copy;
  // Own properties only: a tool called `constructor` or `__proto__` must not pick up Object's.
  if (Object.hasOwn(displayNames, tool.name)) copy.name = displayNames[tool.name];
  if (Object.hasOwn(descriptions, tool.name)) copy.description = descriptions[tool.name];
  return copy;
}

export interface DisplayNameReverse {
  /** Display name -> original upstream name. */
  toOriginal: Map<string, string>;
  /** Display names claimed by more than one original; left out of `toOriginal` so they cannot misroute. */
  ambiguous: string[];
}

/**
 * The reverse of `tool_name_to_display_name`, so a call made with a display name reaches the
 * original tool. A display name that two tools would answer to (two originals renamed alike, or a
 * rename onto the name of another upstream tool that keeps its own name, given `toolNames`) cannot
 * be routed, so it is reported instead of picking one.
 */
export function reverseDisplayNames(displayNames: Record<string, string>, toolNames: Iterable<string> = []): DisplayNameReverse {
  const toOriginal = new Map<string, string>();
  const ambiguous = new Set<string>();
  for (const [original, display] of Object.entries(displayNames)) {
    if (toOriginal.has(display) && toOriginal.get(display) !== original) ambiguous.add(display);
    else toOriginal.set(display, original);
  }
  for (const name of toolNames) {
    const keepsName = !Object.hasOwn(displayNames, name) || displayNames[name] === name;
    if (keepsName && toOriginal.has(name) && toOriginal.get(name) !== name) ambiguous.add(name);
  }
  for (const display of ambiguous) toOriginal.delete(display);
  return { toOriginal, ambiguous: [...ambiguous] };
}

/**
 * The upstream name for a call made by `calledName` on a single (non-aggregated) server: a display
 * name maps back to its original; an original name that has a display name is no longer exposed
 * and so is refused (undefined), matching what `tools/list` showed; any other name passes unchanged.
 */
export function originalToolName(
  calledName: string,
  displayNames: Record<string, string>,
  reverse: DisplayNameReverse,
): string | undefined {
  const original = reverse.toOriginal.get(calledName);
  if (original !== undefined) return original;
  if (Object.hasOwn(displayNames, calledName) && displayNames[calledName] !== calledName) return undefined;
  if (reverse.ambiguous.includes(calledName)) return undefined;
  return calledName;
}
