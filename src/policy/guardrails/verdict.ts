/** What one guardrail decided about one value: let it through, refuse the call, or replace the value. */
export type Verdict = { action: 'allow' } | { action: 'block'; reason: string } | { action: 'mask'; value: unknown };

export const ALLOW: Verdict = { action: 'allow' };

/** What is being checked, for the webhook's `input_type` and the block reason. */
export type Subject = 'tool_arguments' | 'tool_result';
