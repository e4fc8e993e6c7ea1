import type { IssueList, KeyPath } from './issues.js';

/** Transport names other tools use for Streamable HTTP; Toolgate (like LiteLLM's YAML) calls it `http`. */
const HTTP_SPELLINGS = new Set(['streamable_http', 'streamable-http', 'streamablehttp', 'streamable']);

/** `transport:` as written, with the Streamable HTTP spellings of other tools read as `http`. */
export function normalizeTransport(raw: unknown): unknown {
  return typeof raw === 'string' && HTTP_SPELLINGS.has(raw.toLowerCase()) ? 'http' : raw;
}

/**
 * The transport mistakes that pass validation and then fail at run time with a confusing upstream
 * answer (a POST to an SSE endpoint gets an HTML "Cannot POST /sse"), found from the file alone.
 */
export function warnTransportMistakes(
  raw: Record<string, unknown>,
  transport: string,
  url: string | undefined,
  at: KeyPath,
  issues: IssueList,
): void {
  if (typeof raw.transport === 'string' && HTTP_SPELLINGS.has(raw.transport.toLowerCase())) {
    issues.warn(
      [...at, 'transport'],
      `${JSON.stringify(raw.transport)} is read as http; write transport: http (Toolgate's and LiteLLM's name)`,
    );
  }
  if (!url) return;
  let path: string;
  try {
    path = new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return;
  }
  if (transport === 'http' && path.endsWith('/sse')) {
    issues.warn(
      [...at, 'url'],
      'ends in /sse, a legacy HTTP+SSE endpoint, but the transport is http: add transport: sse (else the server refuses every POST, often with an HTML "Cannot POST /sse")',
    );
  }
  if (transport === 'sse' && path.endsWith('/mcp')) {
    issues.warn(
      [...at, 'url'],
      'ends in /mcp, a Streamable HTTP endpoint, but the transport is sse: use transport: http (or leave transport out)',
    );
  }
}
