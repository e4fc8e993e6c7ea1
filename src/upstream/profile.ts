import { isObject, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';

/** Where a downstream client receives what an upstream sends outside a response. */
export interface ClientSink {
  /** Unsolicited notifications: list_changed, message, resources/updated, ... */
  notify(msg: JsonRpcNotification): void;
  /** Server-to-client requests (sampling, elicitation, roots/list); resolves with the client's result. */
  request(msg: JsonRpcRequest): Promise<Record<string, unknown>>;
}

export interface ClientProfile {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
  /**
   * Stateless (2026-07-28) clients have no session to dedicate an upstream session to: each call
   * that may need them (sampling/elicitation/roots) borrows one exclusively from a pool instead.
   */
  pooled?: boolean;
}

/** What a client that did not introduce itself is called upstream. */
export const UNKNOWN_CLIENT: Record<string, unknown> = Object.freeze({ name: 'unknown', version: '0' });

/** The profile a 2025-era client declares in its `initialize` params, at the version we negotiated. */
export function profileFromInitialize(params: Record<string, unknown>, protocolVersion: string): ClientProfile {
  return {
    protocolVersion,
    capabilities: isObject(params.capabilities) ? params.capabilities : {},
    clientInfo: isObject(params.clientInfo) ? params.clientInfo : UNKNOWN_CLIENT,
  };
}

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export function levelRank(level: unknown): number {
  const i = LEVELS.indexOf(typeof level === 'string' ? level : '');
  return i < 0 ? 0 : i;
}

/**
 * A client that can receive server-to-client requests needs an upstream session of its own: the
 * upstream asks *that* client, and its answers decide what the upstream offers (server-everything
 * lists more tools to a client declaring sampling/elicitation/roots). Everyone else shares one warm
 * session per capability profile.
 */
export function needsDedicatedSession(capabilities: Record<string, unknown>): boolean {
  return 'sampling' in capabilities || 'elicitation' in capabilities || 'roots' in capabilities;
}

/**
 * The client capabilities that change what an upstream does (asks the client, lists for it, offers
 * tasks to it). `experimental` and unknown keys are left out: a client could otherwise mint a new
 * upstream session (for stdio a child process) per arbitrary value it sends.
 */
const BEHAVIOURAL = ['sampling', 'elicitation', 'roots', 'tasks', 'extensions'] as const;

/** What a shared upstream session is opened with for clients declaring `capabilities`. */
export function sharedCapabilities(capabilities: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of BEHAVIOURAL) if (Object.hasOwn(capabilities, k)) out[k] = capabilities[k];
  return out;
}

/** A stable key for what a capability set changes upstream, independent of key order. */
export function profileKey(capabilities: Record<string, unknown>): string {
  return canonicalJson(sharedCapabilities(capabilities));
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (isObject(v)) {
    return (
      '{' +
      Object.keys(v)
        .sort()
        .map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k]))
        .join(',') +
      '}'
    );
  }
  return JSON.stringify(v) ?? 'null';
}
