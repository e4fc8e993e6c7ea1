import type { IncomingMessage, ServerResponse } from 'node:http';

/** LiteLLM's management error body: `{"error": {"message", "type", "param", "code"}}`, code being the status as a string. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export const badRequest = (param: string, message: string) => new AdminError(400, `${param}: ${message}`, 'bad_request_error', param);
export const notFound = (what: string, param: string) => new AdminError(404, what, 'not_found_error', param);
export const forbidden = (message: string, param: string | null = null) => new AdminError(403, message, 'forbidden', param);

export function sendAdminJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendAdminError(res: ServerResponse, err: AdminError, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendAdminJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param, code: String(err.status) } });
}

const MAX_BODY = 1024 * 1024;

/** The request body as a JSON object; an empty body is `{}`. Bad JSON or a non-object is a 400 naming what to send. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AdminError(413, 'request body is larger than 1 MiB', 'bad_request_error', 'body');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError(
      400,
      'request body is not valid JSON; send a JSON object with Content-Type: application/json',
      'bad_request_error',
      'body',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminError(400, 'request body must be a JSON object', 'bad_request_error', 'body');
  }
  return value as Record<string, unknown>;
}
