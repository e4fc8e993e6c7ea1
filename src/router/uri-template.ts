/**
 * Whether `uri` could have been produced by an RFC 6570 template. Expressions match any run of
 * characters ({+x} and {#x} may span '/'; simple ones may not), literals must match exactly.
 * Enough to route a resources/read to the server whose template produced the URI.
 */
export function matchesUriTemplate(template: string, uri: string): boolean {
  let pattern = '^';
  let last = 0;
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    pattern += escape(template.slice(last, m.index));
    const op = m[1]!.charAt(0);
    if (op === '?' || op === '&') pattern += '(?:[?&][^#]*)?';
    else if (op === '+' || op === '#') pattern += '.*';
    else pattern += '[^/?#]*';
    last = m.index! + m[0].length;
  }
  pattern += escape(template.slice(last)) + '$';
  try {
    return new RegExp(pattern).test(uri);
  } catch {
    return false;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
