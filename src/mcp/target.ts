import { ErrorCode, McpError } from './jsonrpc.js';

/** What a request or a listed item is about, once the router has resolved names back to the upstream's own. */
export type TargetKind = 'tool' | 'prompt' | 'resource' | 'template' | 'task';

export interface Target {
  server: string;
  kind: TargetKind;
  /** The upstream's own name (tool, prompt), URI (resource), URI template (template) or task id (task). */
  name: string;
  /** The call's arguments (tools/call, prompts/get); absent for listings, whose decision must not depend on them. */
  arguments?: Record<string, unknown>;
}

const LABEL: Record<TargetKind, string> = {
  tool: 'tool',
  prompt: 'prompt',
  resource: 'resource',
  template: 'resource template',
  task: 'task',
};

/**
 * The refusal for a name the caller cannot see. A name hidden by the caller's grants gets exactly
 * this answer too, so a refusal never tells a caller that something exists beyond what it may use.
 */
export function unknownTarget(kind: TargetKind, name: string, hint = `; list ${kind}s to see what this endpoint offers`): McpError {
  return new McpError(ErrorCode.InvalidParams, `Unknown ${LABEL[kind]} "${name}"${hint}`);
}
