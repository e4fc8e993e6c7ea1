import { ErrorCode, McpError, isObject, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { META, nameField } from '../mcp/modern.js';
import { MODERN_PROTOCOL_VERSIONS } from '../mcp/versions.js';
import type { CallContext } from './connection.js';
import { callWithInputRounds } from './input-rounds.js';
import type { ClientProfile } from './profile.js';
import type { Redactor } from './redact.js';
import { listChangedKinds, UpstreamListen, type ListenFilter, type ListenIo } from './listen.js';
import { UpstreamSession, type RequestOptions } from './session.js';
import { UpstreamError, type TransportLog, type UpstreamTransport } from './transport.js';

type Result = Record<string, unknown>;
const MODERN = MODERN_PROTOCOL_VERSIONS[0];

/** Header values must be visible ASCII without edge spaces; anything else travels base64-encoded. */
export function encodeHeaderValue(v: string): string {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(v) && !v.startsWith('=?base64?')
    ? v
    : `=?base64?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

/**
 * A 2026-07-28 (stateless) upstream: no initialize, no session id. Every request carries the
 * per-request envelope in `_meta` and the routing headers (`Mcp-Method`, `Mcp-Name` with the
 * upstream's own names). "Opening" it is a `server/discover`, whose answer stands in for the
 * initialize result the rest of the gateway reads (capabilities, instructions, serverInfo).
 */
export class ModernUpstreamSession extends UpstreamSession {
  private profile?: ClientProfile;
  /** The headers the session was opened with (a dedicated client's credentials): its listen uses them too. */
  private headers?: Record<string, string>;
  private listen?: UpstreamListen;

  constructor(
    server: string,
    transport: UpstreamTransport,
    private readonly timeoutMs: number,
    private readonly log?: TransportLog,
    redactor?: Redactor,
  ) {
    super(server, transport, timeoutMs, redactor);
  }

  /** A client's request: its level in the envelope, input rounds answered or relayed (see input-rounds.ts). */
  override call(method: string, params: Result | undefined, opts: RequestOptions, ctx: CallContext): Promise<Result> {
    return callWithInputRounds((m, p, o) => this.request(m, p, o), method, params, opts, ctx);
  }

  protected override get requestScoped(): boolean {
    return true;
  }

  async discover(profile: ClientProfile, headers?: Record<string, string>): Promise<Result> {
    this.profile = profile;
    this.headers = headers;
    await this.transport.start({ onmessage: (m) => this.dispatch(m), onclose: (e) => this.lost(e) });
    this.transport.setProtocolVersion(MODERN);
    const result = await this.request('server/discover', {}, { headers });
    const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
    if (!versions.includes(MODERN)) {
      await this.close();
      throw new UpstreamError('protocol', `upstream "${this.server}" does not speak ${MODERN}`);
    }
    const meta = isObject(result._meta) ? result._meta : {};
    this.protocolVersion = MODERN;
    this.initializeResult = {
      protocolVersion: MODERN,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
      serverInfo: isObject(meta[META.serverInfo]) ? meta[META.serverInfo] : { name: this.server, version: 'unknown' },
      ...(typeof result.instructions === 'string' ? { instructions: result.instructions } : {}),
    };
    const capabilities = this.initializeResult.capabilities as Result;
    const io: ListenIo = {
      server: this.server,
      open: (id, filter, onmessage, signal) => this.openListen(id, filter, onmessage, signal),
      // Read at delivery time: the upstream and the leases install their handlers after discover.
      deliver: (note) => this.onNotification(note),
      warn: (obj, msg) => this.log?.warn(obj, msg),
    };
    this.listen = new UpstreamListen(listChangedKinds(capabilities), io, this.timeoutMs);
    return this.initializeResult;
  }

  /**
   * Keep this session's `subscriptions/listen` open (a session in use, not a probe): the list changes
   * the server announces reach onNotification, as a 2025 session's GET stream would bring them.
   */
  override listenForChanges(): void {
    this.listen?.start();
  }

  /** The filter the open listen was acknowledged with, if one is open. */
  get listening(): ListenFilter | undefined {
    return this.listen?.honoured;
  }

  override request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    // 2025 methods with no 2026 counterpart on the wire: the session does what they meant.
    if (method === 'resources/subscribe' || method === 'resources/unsubscribe') return this.subscription(method, params);
    if (method === 'logging/setLevel') {
      // The level travels in each request's _meta; the lease that set it puts it there.
      return Promise.resolve({});
    }
    const headers: Record<string, string> = { ...opts.headers, 'mcp-method': method };
    const field = nameField(method);
    const name = field && params ? params[field] : undefined;
    if (typeof name === 'string') headers['mcp-name'] = encodeHeaderValue(name);
    return super.request(method, { ...params, _meta: this.envelope(params) }, { ...opts, headers });
  }

  /** Stateless: nothing to announce after "initialization", and no notification reaches the server. */
  override notify(): Promise<void> {
    return Promise.resolve();
  }

  override async close(): Promise<void> {
    this.listen?.close();
    await super.close();
  }

  protected override lost(err?: Error): void {
    this.listen?.close();
    super.lost(err);
  }

  private async subscription(method: string, params: Result | undefined): Promise<Result> {
    const uri = params?.uri;
    if (typeof uri !== 'string') throw new McpError(ErrorCode.InvalidParams, `${method} needs params.uri`);
    if (this.closed) throw new UpstreamError('closed', `upstream "${this.server}" session is closed`);
    if (!this.listen) throw new UpstreamError('closed', `upstream "${this.server}" session was never opened`);
    if (method === 'resources/subscribe') await this.listen.subscribe(uri);
    else await this.listen.unsubscribe(uri);
    return {};
  }

  private envelope(params: Result | undefined): Result {
    const profile = this.profile;
    const meta = isObject(params?._meta) ? params._meta : {};
    return {
      ...meta,
      [META.protocolVersion]: MODERN,
      [META.clientCapabilities]: profile?.capabilities ?? {},
      [META.clientInfo]: profile?.clientInfo ?? { name: 'toolgate', version: '0' },
    };
  }

  /** One listen exchange: a POST whose event stream stays open until the server ends it or we abort. */
  private openListen(id: string, filter: ListenFilter, onmessage: (msg: JsonRpcMessage) => void, signal: AbortSignal): Promise<void> {
    const msg = {
      jsonrpc: '2.0' as const,
      id,
      method: 'subscriptions/listen',
      params: { notifications: filter, _meta: this.envelope(undefined) },
    };
    return this.transport.send(msg, {
      headers: { ...this.headers, 'mcp-method': 'subscriptions/listen' },
      signal,
      onmessage,
      longLived: true,
    });
  }
}
