/**
 * The readable form of a log line, for a person watching a terminal: `HH:MM:SS.mmm LEVEL msg k=v ...`.
 * Our own few lines rather than pino-pretty: the gateway's lines are flat, and the JSON form (what
 * log shippers read) stays the hot path untouched.
 */

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as text; a line that is not JSON passes through unchanged. */
export function textLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const { level, time, msg, ...rest } = rec;
  const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  let out = `${when} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${typeof msg === 'string' ? msg : ''}`;
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined || v === null) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
  }
  return out + '\n';
}

/** A pino destination that writes each line as text to `out`. */
export function textDestination(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(chunk: string) {
      // pino writes whole lines, one per call.
      out.write(textLine(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk));
    },
  };
}
