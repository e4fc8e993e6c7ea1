type Result = Record<string, unknown>;

/** Results this process built for a guardrail block: the spend recorder counts them as outcome `blocked`. */
const BLOCKS = new WeakSet<object>();

/** The text every block starts with, LiteLLM's wording; readers without the marker may match on it. */
export const GUARDRAIL_VIOLATION = 'Guardrail violation - ';

/** A tool result in the upstream's place (HTTP 200, `isError: true`), so agents read why instead of failing the turn. */
export function guardrailBlock(guardrail: string, reason: string): Result {
  const result = { isError: true, content: [{ type: 'text', text: `${GUARDRAIL_VIOLATION}${guardrail}: ${reason}` }] };
  BLOCKS.add(result);
  return result;
}

/** Whether a tools/call result is a guardrail's block (outcome `blocked` in spend logs). */
export function isGuardrailBlock(result: unknown): boolean {
  return typeof result === 'object' && result !== null && BLOCKS.has(result);
}
