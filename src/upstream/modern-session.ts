import { isObject } from '../mcp/jsonrpc.js';
import { META, nameField } from '../mcp/modern.js';
import { MODERN_PROTOCOL_VERSIONS } from '../mcp/versions.js';
import type { ClientProfile } from './lease.js';
import { UpstreamSession, type RequestOptions } from './session.js';
import { UpstreamError } from './transport.js';

type Result = Record<string, unknown>;
const MODERN = MODERN_PROTOCOL_VERSIONS[0];

/** Header values must be visible ASCII without edge spaces; anything else travels base64-encoded. */
export function encodeHeaderValue(v: string): string {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(v) && !v.startsWith('=?base64?') ? v : `=?base64?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

/**
 * A 2026-07-28 (stateless) upstream: no initialize, no session id. Every request carries the
 * per-request envelope in `_meta` and the routing headers (`Mcp-Method`, `Mcp-Name` with the
 * upstream's own names). "Opening" it is a `server/discover`, whose answer stands in for the
 * initialize result the rest of the gateway reads (capabilities, instructions, serverInfo).
 */
export class ModernUpstreamSession extends UpstreamSession {
  private profile?: ClientProfile;

  async discover(profile: ClientProfile, headers?: Record<string, string>): Promise<Result> {
    this.profile = profile;
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
    return this.initializeResult;
  }

  override request(method: string, params: Result | undefined, opts: RequestOptions = {}): Promise<Result> {
    const profile = this.profile;
    const meta = isObject(params?._meta) ? params._meta : {};
    const envelope: Result = {
      ...meta,
      [META.protocolVersion]: MODERN,
      [META.clientCapabilities]: profile?.capabilities ?? {},
      [META.clientInfo]: profile?.clientInfo ?? { name: 'toolgate', version: '0' },
    };
    const headers: Record<string, string> = { ...opts.headers, 'mcp-method': method };
    const field = nameField(method);
    const name = field && params ? params[field] : undefined;
    if (typeof name === 'string') headers['mcp-name'] = encodeHeaderValue(name);
    return super.request(method, { ...params, _meta: envelope }, { ...opts, headers });
  }

  /** Stateless: nothing to announce after "initialization", and no notification reaches the server. */
  override notify(): Promise<void> {
    return Promise.resolve();
  }
}
