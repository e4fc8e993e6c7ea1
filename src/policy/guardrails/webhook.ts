import type { GuardrailConfig, GuardrailMode } from '../../config/types.js';
import { ALLOW, type Subject, type Verdict } from './verdict.js';

type Json = Record<string, unknown>;
type WebhookConfig = NonNullable<GuardrailConfig['webhook']>;

/** Largest answer read from a webhook; a guardrail's verdict is small. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface WebhookRequest {
  guardrail_name: string;
  mode: GuardrailMode;
  input_type: Subject;
  server: string;
  tool: string;
  key_alias?: string;
  team_id?: string;
  /** The tool call's arguments, or its result. */
  data: unknown;
}

/** Why a webhook gave no verdict (never its URL's secrets or its key). */
class Unanswered extends Error {}

/**
 * The webhook guardrail's contract: POST the request above as JSON; the answer is
 * `{"action": "allow"}`, `{"action": "block", "reason": "..."}` or `{"action": "mask", "data": <replacement>}`.
 * LiteLLM's generic guardrail spellings are read too (`NONE`, `BLOCKED` with `blocked_reason`,
 * `GUARDRAIL_INTERVENED`). No verdict in time (timeout, unreachable, non-2xx, bad JSON): `fail_open` decides.
 */
export async function askWebhook(
  hook: WebhookConfig,
  body: WebhookRequest,
  signal: AbortSignal,
  warn: (reason: string) => void,
): Promise<Verdict> {
  try {
    return await verdictOf(hook, body, signal);
  } catch (err) {
    const why = err instanceof Unanswered ? err.message : signal.aborted ? 'call cancelled' : 'unreachable';
    warn(why);
    return hook.failOpen ? ALLOW : { action: 'block', reason: `guardrail webhook gave no verdict (${why}); failing closed` };
  }
}

async function verdictOf(hook: WebhookConfig, body: WebhookRequest, signal: AbortSignal): Promise<Verdict> {
  const timeout = AbortSignal.timeout(hook.timeoutMs);
  let res: Response;
  try {
    res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        ...hook.headers,
        'content-type': 'application/json',
        accept: 'application/json',
        ...(hook.apiKey ? { authorization: `Bearer ${hook.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, timeout]),
      redirect: 'error',
    });
  } catch {
    throw new Unanswered(timeout.aborted ? `no answer within ${hook.timeoutMs} ms` : signal.aborted ? 'call cancelled' : 'unreachable');
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Unanswered(`HTTP ${res.status}`);
  }
  const text = await res.text().catch(() => {
    throw new Unanswered(timeout.aborted ? `no answer within ${hook.timeoutMs} ms` : 'answer cut off');
  });
  if (text.length > MAX_ANSWER_BYTES) throw new Unanswered('answer too large');
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Unanswered('answer is not JSON');
  }
  return readVerdict(answer);
}

function readVerdict(answer: unknown): Verdict {
  if (typeof answer !== 'object' || answer === null) throw new Unanswered('answer is not a JSON object');
  const a = answer as Json;
  const action = typeof a.action === 'string' ? a.action.toLowerCase() : '';
  if (action === 'allow' || action === 'none' || action === 'pass') return ALLOW;
  if (action === 'block' || action === 'blocked') {
    const reason = typeof a.reason === 'string' ? a.reason : typeof a.blocked_reason === 'string' ? a.blocked_reason : 'blocked by webhook';
    return { action: 'block', reason: reason.slice(0, 500) };
  }
  if ((action === 'mask' || action === 'guardrail_intervened') && a.data !== undefined) return { action: 'mask', value: a.data };
  throw new Unanswered(`unknown action ${JSON.stringify(String(a.action)).slice(0, 40)}`);
}
