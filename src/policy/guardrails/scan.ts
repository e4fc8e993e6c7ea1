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

/** Which leaves to read: every one, or only those under certain keys (a schema's `description`) or paths (not a content item's base64). */
export type Leaves = (key: string, path: string) => boolean;
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

/**
 * Runs every rule over every chosen string leaf of `value` (depth-first); stops at the first block.
 * A number is read as its decimal text (a card number sent as a JSON number is still a card number);
 * masked, it becomes the placeholder string.
 */
export function scan(value: unknown, rules: readonly CompiledRule[], where: string, leaves: Leaves = EVERY_STRING): ScanOutcome {
  const out: ScanOutcome = {};
  const labels = new Set<string>();
  const visit = (v: unknown, path: string, key: string): unknown => {
    if (out.block) return v;
    if (typeof v === 'string' || typeof v === 'number') {
      if (!leaves(key, path)) return v;
      const text = String(v);
      const masks: Finding[] = [];
      for (const r of rules) {
        const found = r.detect(text);
        if (found.length === 0) continue;
        if (r.action === 'block') {
          out.block = { label: found[0]!.label, where: path };
          return v;
        }
        masks.push(...found);
      }
      if (masks.length === 0) return v;
      for (const f of masks) labels.add(f.label);
      return mask(text, masks);
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

/** An image's or audio item's `data`, an embedded resource's `blob`: base64, not text (`result.content[0].data`). */
const BASE64_LEAF = /^result\.content\[\d+\]\.(?:data|resource\.blob)$/;

/**
 * What a client can read of a tool result: every string and number of its content items (text, a
 * resource link's name, description and uri, an embedded resource's text, `_meta`), except base64
 * payloads; all of `structuredContent`; and the result's `_meta`.
 */
export function scanResult(result: Json, rules: readonly CompiledRule[]): ScanOutcome {
  const notBase64: Leaves = (_k, path) => !BASE64_LEAF.test(path);
  const parts = { content: result.content, structuredContent: result.structuredContent, _meta: result._meta };
  const out = scan(parts, rules, 'result', notBase64);
  if (out.block || out.masked === undefined) return out;
  const m = out.masked as Json;
  const masked: Json = { ...result };
  for (const k of Object.keys(parts) as Array<keyof typeof parts>) if (m[k] !== parts[k]) masked[k] = m[k];
  return { masked, maskedLabels: out.maskedLabels };
}

/** A listed tool's description and the descriptions and titles in its input schema: what a model reads as instructions. */
export function scanTool(tool: Json, rules: readonly CompiledRule[]): ScanOutcome {
  const described: Json = { description: tool.description, inputSchema: tool.inputSchema };
  const r = scan(described, rules, 'tool', (k) => k === 'description' || k === 'title');
  if (!r.masked) return r;
  const m = r.masked as Json;
  return { ...r, masked: { ...tool, description: m.description, inputSchema: m.inputSchema } };
}
