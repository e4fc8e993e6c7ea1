import type { AuthConfig } from '../../config/types.js';
import type { Logger } from '../../observe/log.js';
import { UpstreamError, type UpstreamFailure } from '../transport.js';
import type { Credentials, OutboundRequest } from './types.js';

export type OAuth2ClientCredentialsAuth = Extract<AuthConfig, { type: 'oauth2' }>;

export interface OAuth2Options {
  serverName: string;
  /** The upstream MCP URL: the resource whose metadata names the authorization server. */
  serverUrl: string;
  log?: Logger;
  fetchImpl?: typeof fetch;
  /** Budget for one token-endpoint or discovery exchange. */
  timeoutMs?: number;
  /** Clock in milliseconds; tests step it past a token's lifetime instead of sleeping. */
  now?: () => number;
}

/** RFC 6749 recommends but does not require `expires_in`; a token without one is renewed hourly or on a 401. */
const DEFAULT_LIFETIME_S = 3600;
const DEFAULT_TIMEOUT_MS = 10_000;

/** How long a token is used: its lifetime minus 60 s, or minus 10% when it lives less than ten minutes. */
export function tokenUseMs(expiresInS: number): number {
  const lifetime = Math.max(expiresInS, 0) * 1000;
  return lifetime - Math.min(60_000, lifetime * 0.1);
}

/** RFC 6749 2.3.1: the client id and secret are form-urlencoded before they go into HTTP Basic. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The OAuth2 client-credentials grant for one upstream: one token shared by every request to that
 * server, fetched once however many requests need it at the same moment.
 */
export function oauth2ClientCredentials(auth: OAuth2ClientCredentialsAuth, opts: OAuth2Options): Credentials {
  return new ClientCredentialsToken(auth, opts);
}

class ClientCredentialsToken implements Credentials {
  private token?: { value: string; renewAt: number };
  private inflight?: Promise<string>;
  private tokenUrl?: string;
  private readonly now: () => number;
  private readonly http: HttpExchange;

  constructor(
    private readonly auth: OAuth2ClientCredentialsAuth,
    private readonly opts: OAuth2Options,
  ) {
    this.tokenUrl = auth.tokenUrl;
    this.now = opts.now ?? Date.now;
    this.http = new HttpExchange({
      fetchImpl: opts.fetchImpl ?? fetch,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      fail: (failure, detail) => this.fail(failure, detail),
    });
  }

  async apply(req: OutboundRequest): Promise<void> {
    const token = this.token;
    req.headers.authorization = `Bearer ${token && this.now() < token.renewAt ? token.value : await this.fetchShared()}`;
  }

  async refresh(): Promise<boolean> {
    // A fetch already under way started after the rejected token was issued: its result is the new token.
    if (!this.inflight) this.token = undefined;
    await this.fetchShared();
    return true;
  }

  private fetchShared(): Promise<string> {
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const { auth, opts } = this;
    if (!this.tokenUrl) {
      this.tokenUrl = await discoverTokenEndpoint(opts.serverUrl, this.http);
      opts.log?.info({ server: opts.serverName, tokenEndpoint: this.tokenUrl }, 'discovered OAuth token endpoint');
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
    if (auth.audience) form.set('audience', auth.audience);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (auth.tokenEndpointAuthMethod === 'client_secret_basic') {
      const pair = `${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    }

    const where = `token endpoint ${this.tokenUrl}`;
    const res = await this.http.send(where, this.tokenUrl, { method: 'POST', headers, body: form.toString() });
    const body = await this.http.json(where, res);
    if (!res.ok) {
      throw this.fail(res.status < 500 ? 'unauthorized' : 'unreachable', `${where} answered ${res.status}${oauthError(body)}`);
    }
    const accessToken = body?.access_token;
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw this.fail('unauthorized', `${where} answered ${res.status} without an access_token`);
    }
    const expiresIn = Number(body?.expires_in ?? DEFAULT_LIFETIME_S);
    const lifetime = Number.isFinite(expiresIn) ? expiresIn : DEFAULT_LIFETIME_S;
    this.token = { value: accessToken, renewAt: this.now() + tokenUseMs(lifetime) };
    opts.log?.debug({ server: opts.serverName, expiresIn: lifetime }, 'fetched OAuth access token');
    return accessToken;
  }

  /** Every message passes here, so a token endpoint that echoes the secret cannot leak it. */
  private fail(failure: UpstreamFailure, detail: string): UpstreamError {
    const secret = this.auth.clientSecret;
    const clean = secret ? detail.split(secret).join('[redacted]') : detail;
    return new UpstreamError(failure, `OAuth2 credentials for server '${this.opts.serverName}': ${clean}`);
  }
}

function oauthError(body: Record<string, unknown> | undefined): string {
  if (typeof body?.error !== 'string') return '';
  const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
  return ` (${body.error.slice(0, 100)}${description})`;
}

type Json = Record<string, unknown>;

/** One HTTP exchange with a token or metadata endpoint, failing with errors that name the endpoint. */
class HttpExchange {
  constructor(
    private readonly opts: {
      fetchImpl: typeof fetch;
      timeoutMs: number;
      fail: (failure: UpstreamFailure, detail: string) => UpstreamError;
    },
  ) {}

  async send(where: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.opts.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') {
        throw this.opts.fail('timeout', `${where} did not answer within ${this.opts.timeoutMs} ms`);
      }
      throw this.opts.fail('unreachable', `cannot reach ${where}: ${networkCause(err)}`);
    }
  }

  /** The body as a JSON object, or undefined when it is not one (error pages, empty bodies). */
  async json(where: string, res: Response): Promise<Json | undefined> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.opts.fail('unreachable', `${where} dropped the connection: ${networkCause(err)}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : undefined;
    } catch {
      return undefined;
    }
  }

  fail(detail: string): UpstreamError {
    return this.opts.fail('unauthorized', detail);
  }
}

function networkCause(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** RFC 9728 / RFC 8414 well-known locations: path-inserted form first, then the root form. */
function wellKnown(base: URL, suffix: string): string[] {
  const path = base.pathname.replace(/\/+$/, '');
  const urls = path ? [`${base.origin}/.well-known/${suffix}${path}`] : [];
  return [...urls, `${base.origin}/.well-known/${suffix}`];
}

function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  if (!path) return [`${issuer.origin}/.well-known/oauth-authorization-server`, `${issuer.origin}/.well-known/openid-configuration`];
  return [
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.origin}/.well-known/openid-configuration${path}`,
    `${issuer.origin}${path}/.well-known/openid-configuration`,
  ];
}

async function firstDocument(http: HttpExchange, what: string, urls: string[], tried: string[]): Promise<Json | undefined> {
  for (const url of urls) {
    const res = await http.send(`${what} ${url}`, url, { headers: { accept: 'application/json' } });
    const doc = await http.json(`${what} ${url}`, res);
    if (res.ok && doc) return doc;
    tried.push(`${url} (${res.ok ? 'not JSON' : res.status})`);
  }
  return undefined;
}

/**
 * Without a pinned resource_metadata URL, an unauthenticated request to the MCP endpoint gets a 401
 * whose WWW-Authenticate names it (RFC 9728 section 5.1, the MCP authorization spec).
 */
async function challengedMetadataUrl(http: HttpExchange, serverUrl: string): Promise<string | undefined> {
  const res = await http.send(`MCP server ${serverUrl}`, serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
  });
  await res.body?.cancel();
  if (res.status !== 401) return undefined;
  const match = /resource_metadata\s*=\s*(?:"([^"]+)"|([^\s,]+))/i.exec(res.headers.get('www-authenticate') ?? '');
  return match?.[1] ?? match?.[2];
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Upstream protected-resource metadata → its first authorization server → that server's token endpoint. */
async function discoverTokenEndpoint(serverUrl: string, http: HttpExchange): Promise<string> {
  if (!URL.canParse(serverUrl)) throw http.fail('no token_url configured and no server url to discover it from');
  const server = new URL(serverUrl);
  const tried: string[] = [];
  let resource = await firstDocument(http, 'protected-resource metadata', wellKnown(server, 'oauth-protected-resource'), tried);
  if (!resource) {
    const challenged = await challengedMetadataUrl(http, serverUrl);
    if (challenged) resource = await firstDocument(http, 'protected-resource metadata', [new URL(challenged, server).href], tried);
  }
  if (!resource) throw http.fail(`no token_url configured and no protected-resource metadata found at ${tried.join(', ')}`);
  if (typeof resource.resource === 'string' && URL.canParse(resource.resource) && new URL(resource.resource).origin !== server.origin) {
    throw http.fail(`protected-resource metadata names resource ${resource.resource}, not ${server.origin}`);
  }

  const servers = resource.authorization_servers;
  const issuer = Array.isArray(servers) && typeof servers[0] === 'string' ? servers[0] : undefined;
  if (!issuer || !URL.canParse(issuer)) throw http.fail('protected-resource metadata lists no authorization_servers');
  const asTried: string[] = [];
  const metadata = await firstDocument(http, 'authorization-server metadata', authorizationServerMetadataUrls(new URL(issuer)), asTried);
  if (!metadata) throw http.fail(`no authorization-server metadata for ${issuer} at ${asTried.join(', ')}`);
  // RFC 8414 section 3.3: a document for another issuer is a mix-up, not a token endpoint to trust.
  if (typeof metadata.issuer === 'string' && !sameIssuer(metadata.issuer, issuer)) {
    throw http.fail(`authorization-server metadata for ${issuer} names issuer ${metadata.issuer}`);
  }
  const endpoint = metadata.token_endpoint;
  if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
    throw http.fail(`authorization-server metadata for ${issuer} has no token_endpoint`);
  }
  return endpoint;
}
