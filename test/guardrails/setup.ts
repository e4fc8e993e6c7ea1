import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { api } from '../admin/api.js';
import { TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/within.js';

/** Canary secrets: real formats, fake values. None may ever appear in a log line, an audit row or a blocked answer. */
export const GITHUB_CANARY = 'ghp_' + 'Canary0'.repeat(6);
export const AWS_CANARY = 'AKIA' + 'CANARY0123456789';

type CallResult = { isError?: boolean; content?: Array<{ type: string; text?: string }>; structuredContent?: unknown };

export function textOf(result: unknown): string {
  return ((result as CallResult).content ?? []).map((c) => c.text ?? '').join('');
}

/** A legacy HTTP+SSE client (2024-11-05 transport) with the master key. */
export async function connectSse(url: URL): Promise<Client> {
  const auth = { authorization: `Bearer ${TEST_KEY}` };
  const client = new Client({ name: 'guardrails-sse', version: '1.0.0' });
  await client.connect(
    new SSEClientTransport(url, {
      eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }) },
      requestInit: { headers: auth },
    }),
  );
  return client;
}

/** Audit rows of one action, once at least `n` are there (they are written in the background). */
export async function auditRows(gw: TestGateway, action: string, n = 1): Promise<any[]> {
  return until(async () => {
    const r = await api(gw, 'GET', `/audit?action=${action}`);
    return r.status === 200 && r.json.entries.length >= n ? (r.json.entries as any[]) : undefined;
  }, `${n} audit row(s) ${action}`);
}

/** Fails naming where a canary leaked. */
export function assertNoCanary(where: string, text: string, canaries: string[]): void {
  for (const c of canaries) if (text.includes(c)) throw new Error(`canary ${c.slice(0, 6)}... leaked into ${where}`);
}
