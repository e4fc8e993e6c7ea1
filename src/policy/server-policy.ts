import type { ServerConfig } from '../config/types.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import { applyToolOverrides, originalToolName, reverseDisplayNames, toolAllowed, toolForms, type DisplayNameReverse } from './filters.js';

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

  private constructor(
    readonly server: ServerConfig,
    private readonly separator: string,
  ) {
    this.reverse = reverseDisplayNames(server.toolNameToDisplayName);
    for (const [tool, names] of Object.entries(server.allowedParams ?? {})) {
      this.params.set(tool.toLowerCase(), { tool, allowed: new Set(names) });
    }
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
    return toolAllowed(original, this.server, this.separator);
  }

  /** Whether `called` (as a client wrote it) names `original` of this server in one of its accepted forms. */
  names(called: string, original: string): boolean {
    return toolForms(original, this.server, this.separator).has(called.toLowerCase());
  }

  /** allowed_params for a tool, matched like allowed_tools (bare or prefixed, any case); undefined = any argument. */
  allowedParams(original: string): { tool: string; allowed: ReadonlySet<string> } | undefined {
    if (this.params.size === 0) return undefined;
    for (const form of toolForms(original, this.server, this.separator)) {
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
  return new McpError(ErrorCode.InvalidParams, `Tool "${called}" is not allowed on server "${server}" (allowed_tools/disallowed_tools)`);
}

/** LiteLLM's wording for allowed_params, as a JSON-RPC -32602 (the client can fix its arguments). */
export function refusedParams(tool: string, given: string[], allowed: ReadonlySet<string>): McpError {
  const list = (xs: Iterable<string>) => '[' + [...xs].map((x) => `'${x}'`).join(', ') + ']';
  return new McpError(
    ErrorCode.InvalidParams,
    `Parameters ${list(given)} are not allowed for tool ${tool}. Allowed parameters: ${list(allowed)}. ` +
      'Contact proxy admin to allow these parameters (allowed_params).',
    { allowedParams: [...allowed] },
  );
}
