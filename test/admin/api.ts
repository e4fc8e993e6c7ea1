import { TEST_KEY, type TestGateway } from '../helpers/gateway.js';

export interface ApiResponse {
  status: number;
  json: any;
  text: string;
}

/** One management API call, with the master key unless another is given (null: no key at all). */
export async function api(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = TEST_KEY,
): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(gw.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Servers that never answer: management tests need the names, not the upstreams. */
export const ADMIN_CONFIG = `
mcp_servers:
  alpha: { url: "http://127.0.0.1:9/mcp", access_groups: [eng] }
  beta: { url: "http://127.0.0.1:9/mcp", access_groups: [eng, ops] }
  gamma: { url: "http://127.0.0.1:9/mcp" }
  pub: { url: "http://127.0.0.1:9/mcp", allow_all_keys: true }
`;

/** A unique suffix so tests sharing one store never collide on ids or aliases. */
export function uid(): string {
  return Math.random().toString(36).slice(2, 10);
}
