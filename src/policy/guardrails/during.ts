import { LazyAbort, type Cancel } from '../../mcp/lazy-abort.js';
import type { Forward, ToolCall } from '../hooks.js';
import type { Guardrail } from './guardrail.js';
import type { Verdict } from './verdict.js';

type Result = Record<string, unknown>;
type Checked = { g: Guardrail; v: Verdict };
type Outcome = { result: Result } | { blocked: { g: Guardrail; reason: string } };

/**
 * `during_mcp_call`: the upstream call and the checks start together. A block that comes first aborts
 * the upstream call (its signal is the client's combined with ours); a result that comes first is held
 * until every check passed, so a blocked call's content never reaches the client. A `mask` verdict
 * cannot apply to arguments already sent and counts as allow.
 */
export async function runDuring(c: ToolCall, next: Forward, checks: (signal: Cancel) => Promise<Checked>[]): Promise<Outcome> {
  const signal = new LazyAbort();
  // The client's cancel ends this call too; unfollowed once settled, so a long-lived signal keeps no hold.
  const unfollow = signal.follow(c.signal);
  try {
    const upstream = next({ ...c, signal }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const pending = checks(signal);
    const firstBlock = new Promise<{ g: Guardrail; reason: string } | undefined>((resolve) => {
      let left = pending.length;
      for (const p of pending) {
        void p.then(({ g, v }) => {
          if (v.action === 'block') resolve({ g, reason: v.reason });
          else if (--left === 0) resolve(undefined);
        });
      }
    });
    const first = await Promise.race([firstBlock.then((b) => ({ b })), upstream]);
    const block = 'b' in first ? first.b : await firstBlock;
    if (block) {
      signal.abort(new Error(`blocked by guardrail ${block.g.name}`));
      return { blocked: block };
    }
    const done = 'b' in first ? await upstream : first;
    if ('error' in done) throw done.error;
    return { result: done.result };
  } finally {
    unfollow();
  }
}
