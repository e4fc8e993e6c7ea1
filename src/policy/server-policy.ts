import type { ServerConfig } from '../config/types.js';
import { PolicyDenied } from '../mcp/errors.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import { applyToolOverrides, originalToolName, reverseDisplayNames, toolForms, type DisplayNameReverse } from './filters.js';

type Item = Record<string, unknown>;

/**
 * One server's own tool settings (allowed_tools, disallowed_tools, allowed_params, display names,
 * descriptions), built once per server definition. Most servers configure none of them and get no
 * ServerPolicy at all, which keeps their traffic on the untouched relay.
 */
export class ServerPolicy {
  private readonly reverse: DisplayNameReverse;
  /** allowed_params by every lower-cased form its tool key may be written in. */
  private readonly params = new Map<string, { tool: string; allowed: ReadonlySet<string> }>();

  /** allowed_tools / disallowed_tools, lower-cased; undefined when empty (unset, as in LiteLLM). */
  private readonly allowList?: ReadonlySet<string>;
  private readonly denyList?: ReadonlySet<string>;
  /** `{name}{sep}` and `{alias}{sep}`, lower-cased: the prefixed forms a list entry may use. */
  private readonly prefixes: string[];

  private constructor(
    readonly server: ServerConfig,
    private readonly separator: string,
  ) {
    this.reverse = reverseDisplayNames(server.toolNameToDisplayName);
    for (const [tool, names] of Object.entries(server.allowedParams ?? {})) {
      this.params.set(tool.toLowerCase(), { tool, allowed: new Set(names) });
    }
    const lower = (list?: string[]) => (list?.length ? new Set(list.map((e) => e.toLowerCase())) : undefined);
    this.allowList = lower(server.allowedTools);
    this.denyList = lower(server.disallowedTools);
    this.prefixes = [server.name, ...(server.alias !== undefined ? [server.alias] : [])].map((p) => `${p}${separator}`.toLowerCase());
  }

  /** Whether a lower-cased tool name is in `set`, bare or in one of its prefixed forms (what toolForms lists, without building it). */
  private listed(set: ReadonlySet<string>, lowerName: string): boolean {
    return set.has(lowerName) || this.prefixes.some((p) => set.has(p + lowerName));
  }

  /** The server's policy, or undefined when it configures nothing (relay untouched: the fast path). */
  static for(server: ServerConfig, separator: string): ServerPolicy | undefined {
    const configured =
      !!server.allowedTools?.length ||
      !!server.disallowedTools?.length ||
      Object.keys(server.allowedParams ?? {}).length > 0 ||
      Object.keys(server.toolNameToDisplayName).length > 0 ||
      Object.keys(server.toolNameToDescription).length > 0;
    return configured ? new ServerPolicy(server, separator) : undefined;
  }

  /** Whether the upstream's own (unprefixed) tool name passes allowed_tools, then disallowed_tools. */
  allows(original: string): boolean {
    // The same rule as filters.ts toolAllowed, on sets built once: listings ask this for every tool.
    const lower = original.toLowerCase();
    if (this.allowList && !this.listed(this.allowList, lower)) return false;
    return !(this.denyList && this.listed(this.denyList, lower));
  }

  /** Whether `called` (as a client wrote it) names `original` of this server in one of its accepted forms. */
  names(called: string, original: string): boolean {
    return toolForms(original, this.server, this.separator).has(called.toLowerCase());
  }

  /** allowed_params for a tool, matched like allowed_tools (bare or prefixed, any case); undefined = any argument. */
  allowedParams(original: string): { tool: string; allowed: ReadonlySet<string> } | undefined {
    if (this.params.size === 0) return undefined;
    const lower = original.toLowerCase();
    for (const form of [lower, ...this.prefixes.map((p) => p + lower)]) {
      const hit = this.params.get(form);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Display name and description overrides on one listed tool (a shallow copy; unknown fields kept). */
  present(tool: Item): Item {
    return applyToolOverrides(tool, this.server.toolNameToDisplayName, this.server.toolNameToDescription);
  }

  /** The upstream name for a call by the name a one-server listing showed (display names mapped back). */
  originalName(called: string): string {
    const original = originalToolName(called, this.server.toolNameToDisplayName, this.reverse);
    if (original === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${called}" on server "${this.server.name}": it is exposed under its display name`,
      );
    }
    return original;
  }
}

export function refusedTool(called: string, server: string): McpError {
  // PolicyDenied (still -32602) so the request log can say "denied" rather than "invalid params".
  return new PolicyDenied(`Tool "${called}" is not allowed on server "${server}" (allowed_tools/disallowed_tools)`);
}

/** LiteLLM's wording for allowed_params, as a JSON-RPC -32602 (the client can fix its arguments). */
export function refusedParams(tool: string, given: string[], allowed: ReadonlySet<string>): McpError {
  const list = (xs: Iterable<string>) => '[' + [...xs].map((x) => `'${x}'`).join(', ') + ']';
  return new PolicyDenied(
    `Parameters ${list(given)} are not allowed for tool ${tool}. Allowed parameters: ${list(allowed)}. ` +
      'Contact proxy admin to allow these parameters (allowed_params).',
    { allowedParams: [...allowed] },
  );
}
