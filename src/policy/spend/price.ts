import type { ServerConfig } from '../../config/types.js';

/** LiteLLM's price of one call: the tool's own price, else the server's default, else 0. */
export function priceOf(config: ServerConfig | undefined, tool: string): number {
  const info = config?.mcpInfo?.costInfo;
  if (!info) return 0;
  return info.toolNameToCostPerQuery[tool] ?? info.defaultCostPerQuery ?? 0;
}
