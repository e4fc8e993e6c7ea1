import { LimitExceeded } from '../../mcp/errors.js';

/** The limit fields this stage enforces (LiteLLM's, plus Toolgate's mcp_tool_rpm_limit). */
export type LimitField = 'rpm_limit' | 'max_parallel_requests' | 'mcp_rpm_limit' | 'mcp_tool_rpm_limit';

/** Which limit a counter enforces, for the message: the field, whose it is, and on what. */
export interface LimitLabel {
  field: LimitField;
  /** `key sk-...abcd`, `team t-1`, `user u-1`, `organization o-1`: never the key itself. */
  owner: string;
  /** `server "alpha"` or `tool "alpha/echo"` for the per-server and per-tool limits. */
  on?: string;
}

const WORDING: Readonly<Record<LimitField, { name: string; unit: string; max: string }>> = {
  rpm_limit: { name: 'RPM limit', unit: 'current rpm', max: 'rpm limit' },
  mcp_rpm_limit: { name: 'MCP server RPM limit', unit: 'current rpm', max: 'rpm limit' },
  mcp_tool_rpm_limit: { name: 'MCP tool RPM limit', unit: 'current rpm', max: 'rpm limit' },
  max_parallel_requests: { name: 'Max Parallel Request Limit', unit: 'current max_parallel_requests', max: 'max_parallel_requests' },
};

/** Seconds for Retry-After: whole, at least 1 (0 would invite an immediate retry that fails again). */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * LiteLLM's wording ("Crossed ... limit. current rpm: N, rpm limit: M"), naming the limit's field,
 * its level and the count including the refused call, e.g.
 * `Crossed RPM limit for key sk-...abcd (rpm_limit). current rpm: 3, rpm limit: 2`.
 */
export function limitExceeded(label: LimitLabel, current: number, limit: number, retryAfterMs: number): LimitExceeded {
  const w = WORDING[label.field];
  const on = label.on ? ` on ${label.on}` : '';
  const retryAfterSeconds = seconds(retryAfterMs);
  const message = `Crossed ${w.name} for ${label.owner}${on} (${label.field}). ${w.unit}: ${current}, ${w.max}: ${limit}`;
  return new LimitExceeded(message, retryAfterSeconds, { retryAfterSeconds, limit_type: label.field, current, limit });
}

/** Redis is down and `rate_limit_fail_closed` says not to count alone: refused, retry soon. */
export function countersUnavailable(): LimitExceeded {
  return new LimitExceeded(
    'Rate limits cannot be checked: the shared rate-limit counters (Redis) are unreachable and rate_limit_fail_closed is set; retry later',
    1,
  );
}
