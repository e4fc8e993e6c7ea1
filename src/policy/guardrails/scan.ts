import type { CompiledRule } from './detectors/rules.js';
import type { Finding } from './detectors/types.js';

type Json = Record<string, unknown>;

/** What the rules made of a value: a block (what and where, never the text), and/or a masked copy. */
export interface ScanOutcome {
  block?: { label: string; where: string };
  /** A copy with every masked finding replaced; absent when nothing was masked. */
  masked?: unknown;
  /** Labels of what was masked (for the alert). */
  maskedLabels?: string[];
}

/** Which string leaves to read: every one, or only those under certain keys (a content item's `text`, a schema's `description`). */
export type Leaves = (key: string) => boolean;
export const EVERY_STRING: Leaves = () => true;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `[REDACTED_GITHUB_TOKEN]`: says what was there without any of it. */
function placeholder(label: string): string {
  return `[REDACTED_${label.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}]`;
}

function mask(text: string, findings: Finding[]): string {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.end <= at) continue;
    out += text.slice(at, Math.max(at, f.start)) + placeholder(f.label);
    at = f.end;
  }
  return out + text.slice(at);
}

/** Runs every rule over every chosen string leaf of `value` (depth-first); stops at the first block. */
export function scan(value: unknown, rules: readonly CompiledRule[], where: string, leaves: Leaves = EVERY_STRING): ScanOutcome {
  const out: ScanOutcome = {};
  const labels = new Set<string>();
  const visit = (v: unknown, path: string, key: string): unknown => {
    if (out.block) return v;
    if (typeof v === 'string') {
      if (!leaves(key)) return v;
      const masks: Finding[] = [];
      for (const r of rules) {
        const found = r.detect(v);
        if (found.length === 0) continue;
        if (r.action === 'block') {
          out.block = { label: found[0]!.label, where: path };
          return v;
        }
        masks.push(...found);
      }
      if (masks.length === 0) return v;
      for (const f of masks) labels.add(f.label);
      return mask(v, masks);
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      v.forEach((item, i) => {
        const next = visit(item, `${path}[${i}]`, key);
        if (next !== item) (copy ??= [...v])[i] = next;
      });
      return copy ?? v;
    }
    if (isObj(v)) {
      let copy: Json | undefined;
      for (const [k, item] of Object.entries(v)) {
        const next = visit(item, path ? `${path}.${k}` : k, k);
        if (next !== item) (copy ??= { ...v })[k] = next;
      }
      return copy ?? v;
    }
    return v;
  };
  const result = visit(value, where, '');
  if (!out.block && result !== value) {
    out.masked = result;
    out.maskedLabels = [...labels];
  }
  return out;
}

/** The parts of a tool result a client reads as text: each content item's `text` (and an embedded resource's), and all of `structuredContent`. */
export function scanResult(result: Json, rules: readonly CompiledRule[]): ScanOutcome {
  const textLeaves: Leaves = (k) => k === 'text';
  const content = scan(result.content, rules, 'result.content', textLeaves);
  if (content.block) return content;
  const structured = scan(result.structuredContent, rules, 'result.structuredContent');
  if (structured.block) return structured;
  if (content.masked === undefined && structured.masked === undefined) return {};
  return {
    masked: {
      ...result,
      ...(content.masked !== undefined ? { content: content.masked } : {}),
      ...(structured.masked !== undefined ? { structuredContent: structured.masked } : {}),
    },
    maskedLabels: [...new Set([...(content.maskedLabels ?? []), ...(structured.maskedLabels ?? [])])],
  };
}

/** A listed tool's description and the descriptions and titles in its input schema: what a model reads as instructions. */
export function scanTool(tool: Json, rules: readonly CompiledRule[]): ScanOutcome {
  const described: Json = { description: tool.description, inputSchema: tool.inputSchema };
  const r = scan(described, rules, 'tool', (k) => k === 'description' || k === 'title');
  if (!r.masked) return r;
  const m = r.masked as Json;
  return { ...r, masked: { ...tool, description: m.description, inputSchema: m.inputSchema } };
}
