type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Toolgate's fragment merged into a client's parsed JSON config: entries under the same parent are
 * replaced by name, arrays of `{id}` items (VS Code's inputs) by id; everything else is kept as it was.
 */
export function mergeJson(existing: Json, fragment: Json): Json {
  const out: Json = { ...existing };
  for (const [k, v] of Object.entries(fragment)) {
    const cur = out[k];
    if (Array.isArray(v)) {
      const ids = new Set(v.map((i) => (isObj(i) ? i.id : undefined)));
      const kept = Array.isArray(cur) ? cur.filter((i) => !(isObj(i) && ids.has(i.id))) : [];
      out[k] = [...kept, ...v];
    } else if (isObj(v)) out[k] = { ...(isObj(cur) ? cur : {}), ...v };
    else out[k] = v;
  }
  return out;
}

const bareKey = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
// JSON string escapes are valid TOML basic-string escapes.
const tomlValue = (v: unknown): string =>
  isObj(v)
    ? `{ ${Object.entries(v)
        .map(([k, x]) => `${bareKey(k)} = ${tomlValue(x)}`)
        .join(', ')} }`
    : JSON.stringify(String(v));

/** `{table: {name: {key: value}}}` as TOML: one `[table.name]` section of strings and inline tables. */
export function renderToml(fragment: Json): string {
  const out: string[] = [];
  for (const [table, entries] of Object.entries(fragment)) {
    for (const [name, fields] of Object.entries(entries as Json)) {
      out.push(`[${bareKey(table)}.${bareKey(name)}]`);
      for (const [k, v] of Object.entries(fields as Json)) out.push(`${bareKey(k)} = ${tomlValue(v)}`);
    }
  }
  return out.join('\n') + '\n';
}

/**
 * The section(s) of `fragment` put into a TOML file's text: an existing `[table.name]` section (and
 * its `[table.name.*]` subtables) is removed, the new one appended; every other line stays as
 * written, comments included (a parse-and-reprint would drop them).
 */
export function mergeToml(text: string, fragment: Json): string {
  let lines = text.split('\n');
  for (const [table, entries] of Object.entries(fragment)) {
    for (const name of Object.keys(entries as Json)) {
      const heads = new Set([`${bareKey(table)}.${bareKey(name)}`, `${table}.${JSON.stringify(name)}`]);
      const kept: string[] = [];
      let skipping = false;
      for (const line of lines) {
        const head = /^\s*\[([^[\]]+)\]\s*(#.*)?$/.exec(line)?.[1]?.replace(/\s+/g, '');
        if (head !== undefined) skipping = [...heads].some((h) => head === h || head.startsWith(h + '.'));
        if (!skipping) kept.push(line);
      }
      lines = kept;
    }
  }
  const body = lines.join('\n').replace(/\n*$/, '');
  return (body ? body + '\n\n' : '') + renderToml(fragment);
}
