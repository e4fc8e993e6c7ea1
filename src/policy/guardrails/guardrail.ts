import type { GuardrailConfig, GuardrailMode } from '../../config/types.js';
import { signalOf, type Cancel } from '../../mcp/lazy-abort.js';
import { compileRule, type CompiledRule } from './detectors/rules.js';
import { scan, scanResult, scanTool, type ScanOutcome } from './scan.js';
import { askWebhook, type WebhookRequest } from './webhook.js';
import { ALLOW, type Subject, type Verdict } from './verdict.js';

type Json = Record<string, unknown>;

/** What a check needs besides the value: who, where, and the call's signal (a webhook is cancelled with the call). */
export interface CheckContext {
  mode: GuardrailMode;
  server: string;
  tool: string;
  keyAlias?: string;
  teamId?: string;
  signal: Cancel;
}

/** One configured guardrail, ready to run: built-in rules (synchronous) or a webhook. */
export class Guardrail {
  readonly name: string;
  readonly modes: ReadonlySet<GuardrailMode>;
  readonly defaultOn: boolean;
  /** Built-in rules; empty for a webhook. */
  private readonly rules: CompiledRule[];

  constructor(
    private readonly config: GuardrailConfig,
    private readonly warn: (guardrail: string, reason: string) => void,
  ) {
    this.name = config.name;
    this.modes = new Set(config.modes);
    this.defaultOn = config.defaultOn;
    this.rules = config.rules.map(compileRule);
  }

  /** Whether listings can be checked: only built-in rules run synchronously, as cached listings need. */
  get checksListings(): boolean {
    return this.modes.has('pre_mcp_call') && this.config.webhook === undefined;
  }

  /** Whether checks run in this process, synchronously (built-in rules), rather than asking a webhook. */
  get builtIn(): boolean {
    return this.config.webhook === undefined;
  }

  /** Tool arguments (pre, during) or a tool result (post). */
  async check(subject: Subject, value: unknown, ctx: CheckContext): Promise<Verdict> {
    if (this.config.webhook) {
      const body: WebhookRequest = {
        guardrail_name: this.name,
        mode: ctx.mode,
        input_type: subject,
        server: ctx.server,
        tool: ctx.tool,
        ...(ctx.keyAlias ? { key_alias: ctx.keyAlias } : {}),
        ...(ctx.teamId ? { team_id: ctx.teamId } : {}),
        data: value,
      };
      return askWebhook(this.config.webhook, body, signalOf(ctx.signal), (why) => this.warn(this.name, why));
    }
    return this.checkNow(subject, value);
  }

  /** `check` of a built-in guardrail, without a promise (a webhook's guardrail must use `check`). */
  checkNow(subject: Subject, value: unknown): Verdict {
    if (value === undefined) return ALLOW;
    const where = subject === 'tool_arguments' ? 'arguments' : 'result';
    return this.verdict(subject === 'tool_result' ? scanResult(value as Json, this.rules) : scan(value, this.rules, where));
  }

  /** A listed tool's description and schema texts (built-in rules only). */
  checkTool(tool: Json): Verdict & { labels?: string[] } {
    const out = scanTool(tool, this.rules);
    const v = this.verdict(out);
    return v.action === 'mask' ? { ...v, labels: out.maskedLabels } : v;
  }

  private verdict(out: ScanOutcome): Verdict {
    if (out.block) return { action: 'block', reason: `${out.block.label} detected in ${out.block.where}` };
    if (out.masked !== undefined) return { action: 'mask', value: out.masked };
    return ALLOW;
  }
}
