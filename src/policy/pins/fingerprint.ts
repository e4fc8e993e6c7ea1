import type { ToolPin } from '../../config/types.js';

/** JSON with object keys sorted: two schemas that differ only in key order are the same schema. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** What a pin compares: the description and the input schema, nothing else a server may reword (title, annotations). */
export function fingerprint(pin: ToolPin): string {
  return `${canonical(pin.description ?? null)}\n${canonical(pin.inputSchema ?? null)}`;
}

/** A listed tool as a pin. */
export function pinOf(tool: Record<string, unknown>): ToolPin {
  return { description: typeof tool.description === 'string' ? tool.description : undefined, inputSchema: tool.inputSchema };
}

const prints = new WeakMap<object, string>();

/** A listed tool's fingerprint, computed once per listed object (calls compare it on every request). */
export function printOfTool(tool: Record<string, unknown>): string {
  let p = prints.get(tool);
  if (p === undefined) prints.set(tool, (p = fingerprint(pinOf(tool))));
  return p;
}
