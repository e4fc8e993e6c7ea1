import type { ServerConfig } from '../config/types.js';
import { ErrorCode, McpError } from '../mcp/jsonrpc.js';
import { applyToolOverrides, originalToolName, reverseDisplayNames, toolAllowed, type DisplayNameReverse } from './filters.js';

type Item = Record<string, unknown>;

/**
 * One server's tool settings (allowed_tools, disallowed_tools, display names, descriptions) as the
 * single decision both routers use: what `tools/list` shows is exactly what `tools/call` accepts.
 */
export class ToolPolicy {
  private readonly reverse: DisplayNameReverse;

  private constructor(
    private readonly server: ServerConfig,
    private readonly separator: string,
  ) {
    this.reverse = reverseDisplayNames(server.toolNameToDisplayName);
  }

  /** The server's policy, or undefined when it configures nothing (relay untouched: the fast path). */
  static for(server: ServerConfig, separator: string): ToolPolicy | undefined {
    const configured =
      !!server.allowedTools?.length ||
      !!server.disallowedTools?.length ||
      Object.keys(server.toolNameToDisplayName).length > 0 ||
      Object.keys(server.toolNameToDescription).length > 0;
    return configured ? new ToolPolicy(server, separator) : undefined;
  }

  /** Whether the upstream's own (unprefixed) tool name passes allowed_tools, then disallowed_tools. */
  allows(original: string): boolean {
    return toolAllowed(original, this.server, this.separator);
  }

  /** A listing page as the client sees it: filtered tools with display names and descriptions applied. */
  present(tools: unknown): unknown {
    if (!Array.isArray(tools)) return tools;
    return tools
      .filter((t: Item) => typeof t?.name !== 'string' || this.allows(t.name))
      .map((t: Item) => applyToolOverrides(t, this.server.toolNameToDisplayName, this.server.toolNameToDescription));
  }

  /** The upstream name for a call by the name a listing showed; refuses what the listing hid. */
  resolveCall(called: string): string {
    const original = originalToolName(called, this.server.toolNameToDisplayName, this.reverse);
    if (original === undefined) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${called}" on server "${this.server.name}": it is exposed under its display name`,
      );
    }
    if (!this.allows(original)) throw refusedTool(called, this.server.name);
    return original;
  }
}

export function refusedTool(called: string, server: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Tool "${called}" is not allowed on server "${server}" (allowed_tools/disallowed_tools)`);
}
